"""What a user may do, and how much: the one place other apps ask.

A subscription that is ``active`` or ``trialing`` gives its plan's limits; one that is
``past_due`` keeps them for ``BILLING_GRACE_PERIOD_DAYS`` after its renewal first failed; any
other state (none, canceled, unpaid, incomplete, past the grace period) gives the free plan.
The answer is cached per user and dropped by the billing webhooks whenever the user's
subscription, invoices or the catalogue change.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from billing.plans import FREE, Entitlements
from billing.selectors import (
    grace_period_end_get,
    subscription_get_current_for_user,
    subscription_plan,
    subscription_status,
)
from billing.statuses import GRACE_STATUS, PAID_STATUSES

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "FREE",
    "Entitlements",
    "entitlements_get_for_user",
    "entitlements_invalidate",
    "entitlements_invalidate_all",
]

CACHE_SECONDS = 300
_CATALOGUE_VERSION_KEY = "billing:catalogue-version"


def _cache_key(user_id: int) -> str:
    version = cache.get(_CATALOGUE_VERSION_KEY, 0)
    return f"billing:entitlements:{version}:{user_id}"


def entitlements_get_for_user(*, user: User) -> Entitlements:
    """The user's current entitlements (cached; see the module docstring)."""
    if not getattr(user, "pk", None):
        return FREE
    key = _cache_key(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return Entitlements(**cached)
    entitlements, valid_until = entitlements_compute(user=user, now=timezone.now())
    timeout = CACHE_SECONDS
    if valid_until is not None:
        timeout = max(1, min(timeout, int((valid_until - timezone.now()).total_seconds())))
    cache.set(key, asdict(entitlements), timeout)
    return entitlements


def entitlements_compute(*, user: User, now: datetime) -> tuple[Entitlements, datetime | None]:
    """Entitlements from the database (no cache), and when that answer stops being true."""
    subscription = subscription_get_current_for_user(user=user)
    if subscription is None:
        return FREE, None
    status = subscription_status(subscription)
    valid_until: datetime | None = None
    if status == GRACE_STATUS:
        ends = grace_period_end_get(user=user, subscription_id=subscription.id)
        if ends is None:
            # The failure webhook was missed (reconciliation will record it): count the grace
            # period from the start of the unpaid period, which is never later than the failure.
            start = subscription.current_period_start
            ends = start + timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS) if start else None
        if ends is None or ends <= now:
            return FREE, None
        valid_until = ends
    elif status not in PAID_STATUSES:
        return FREE, None
    plan = subscription_plan(subscription)
    if plan is None:
        return FREE, valid_until
    limits = plan.limits
    entitlements = Entitlements(
        plan=plan.code,
        is_paid=True,
        max_post_length=limits["max_post_length"],
        max_images_per_post=limits["max_images_per_post"],
        posts_per_day=limits["posts_per_day"],
        max_api_keys=limits["max_api_keys"],
        api_requests_per_minute=limits["api_requests_per_minute"],
    )
    return entitlements, valid_until


def entitlements_invalidate(*, user_id: int) -> None:
    """Drops the cached answer for one user (called when their subscription changes).

    Dropped now and again after the surrounding transaction commits: a request that read the
    old rows in between must not leave a stale answer in the cache for its whole lifetime.
    """

    def drop() -> None:
        cache.delete_many([_cache_key(user_id), f"billing:past-due:{user_id}"])

    drop()
    transaction.on_commit(drop)


def entitlements_invalidate_all() -> None:
    """Drops every cached answer at once (called when a plan's product or price changes)."""

    def bump() -> None:
        try:
            cache.incr(_CATALOGUE_VERSION_KEY)
        except ValueError:
            cache.set(_CATALOGUE_VERSION_KEY, 1, None)

    bump()
    transaction.on_commit(bump)
