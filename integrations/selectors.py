"""Reads for API keys, scoped to the acting user."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from config.errors import NotFoundError
from integrations.models import ApiKey

if TYPE_CHECKING:
    from accounts.models import User

EXPIRY_WARNING_BEFORE = timedelta(days=7)


def api_key_list_for_user(*, user: User) -> QuerySet[ApiKey]:
    """Every key the user has made, newest first, including revoked and expired ones."""
    return (
        ApiKey.objects.filter(user=user).select_related("user", "rotated_from").order_by("-created_at", "-id")
    )


def api_key_get_for_user(*, user: User, public_id: str) -> ApiKey:
    """One of the user's keys by its public id. Another user's key is NotFound, never Forbidden."""
    api_key = api_key_list_for_user(user=user).filter(public_id=public_id).first()
    if api_key is None:
        raise NotFoundError("No API key with this id.")
    return api_key


def api_key_get_for_authentication(*, public_id: str) -> ApiKey | None:
    """The key behind a request, with its owner, in one indexed query (authentication only)."""
    try:
        return ApiKey.objects.select_related("user").get(public_id=public_id)
    except ApiKey.DoesNotExist:
        return None


def api_key_count_active_for_user(*, user: User) -> int:
    """Keys that count against the plan's limit: usable and not being rotated away."""
    return ApiKey.objects.filter(
        user=user, revoked_at__isnull=True, grace_expires_at__isnull=True, expires_at__gt=timezone.now()
    ).count()


def api_key_list_usable_for_user(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys that still authenticate (active, or rotating within their grace period)."""
    now = timezone.now()
    return (
        ApiKey.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
        .filter(Q(grace_expires_at__isnull=True) | Q(grace_expires_at__gt=now))
        .order_by("created_at", "id")
    )


def api_key_list_expiring_soon() -> list[ApiKey]:
    """Active keys of active users that expire within 7 days and were not warned about yet."""
    now = timezone.now()
    return list(
        ApiKey.objects.filter(
            revoked_at__isnull=True,
            grace_expires_at__isnull=True,
            expiry_warning_sent_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + EXPIRY_WARNING_BEFORE,
            user__is_active=True,
        ).select_related("user")
    )
