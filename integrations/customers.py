"""A Stripe customer for every verified user, kept in step with their e-mail address.

Sign-up and e-mail changes only schedule work (``transaction.on_commit`` -> Celery), so they never
wait for Stripe or fail because it is down: the task retries with backoff, and
``manage.py integrations_backfill_customers`` (also run daily by beat) catches anyone left over.
Creation itself is billing's ``customer_get_or_create``, whose idempotency key derives from the
user, so retries after a lost response still make exactly one customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from djstripe.models import Customer

from accounts.models import User
from billing.selectors import customer_for_user
from billing.services import customer_get_or_create
from billing.stripe_client import stripe_errors

logger = logging.getLogger(__name__)


def stripe_customer_sync_later(*, user: User) -> None:
    """After the current transaction commits, makes sure ``user`` has a Stripe customer with
    their current e-mail address (a Celery task that retries until Stripe answers)."""
    from integrations.tasks import stripe_customer_sync

    user_id = user.pk
    transaction.on_commit(lambda: stripe_customer_sync.delay(user_id=user_id))


def users_without_customer() -> QuerySet[User]:
    """Active users with a verified address and no (unpurged) Stripe customer in this mode."""
    has_customer = Customer.objects.filter(
        subscriber=OuterRef("pk"), livemode=bool(settings.STRIPE_LIVE_MODE), date_purged__isnull=True
    )
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(verified))
        .exclude(Exists(has_customer))
        .order_by("pk")
    )


@dataclass(frozen=True)
class SyncResult:
    customer_id: str | None
    created: bool = False
    email_updated: bool = False


@transaction.atomic
def stripe_customer_sync(*, user_id: int) -> SyncResult:
    """Creates the user's Stripe customer if missing, or sends their new e-mail address to it.

    Does nothing for a deleted, deactivated or unverified user. Raises billing's
    ``BillingUnavailableError`` when Stripe cannot be reached (the task retries on it).
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not EmailAddress.objects.filter(user=user, verified=True).exists():
        return SyncResult(customer_id=None)
    existing = customer_for_user(user=user)
    if existing is None:
        customer = customer_get_or_create(user=user)
        return SyncResult(customer_id=customer.id, created=True)
    if existing.email.lower() == user.email.lower():
        return SyncResult(customer_id=existing.id)
    with stripe_errors():
        data = stripe.Customer.modify(
            existing.id,
            email=user.email,
            idempotency_key=f"relay-customer-email-{existing.id}-{user.email.lower()}",
        )
        Customer.sync_from_stripe_data(data)
    return SyncResult(customer_id=existing.id, email_updated=True)
