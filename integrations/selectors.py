"""Reads for API keys, scoped to the acting user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from config.errors import NotFoundError
from integrations.models import ApiKey

if TYPE_CHECKING:
    from accounts.models import User


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


def api_key_find_by_public_id(*, public_id: str) -> ApiKey | None:
    """The key behind a request, with its owner, in one indexed query (authentication only)."""
    try:
        return ApiKey.objects.select_related("user").get(public_id=public_id)
    except ApiKey.DoesNotExist:
        return None


def api_keys_export_for_user(*, user: User) -> list[dict[str, Any]]:
    """Data export: what the user's keys are, never anything that could rebuild one."""
    return [
        {
            "id": key.public_id,
            "name": key.name,
            "scopes": key.scopes,
            "status": key.status,
            "created_at": key.created_at.isoformat(),
            "expires_at": key.expires_at.isoformat(),
            "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
            "last_used_ip": key.last_used_ip,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "addresses": [a.ip_address for a in key.addresses.all()],
        }
        for key in ApiKey.objects.filter(user=user).prefetch_related("addresses").order_by("created_at")
    ]
