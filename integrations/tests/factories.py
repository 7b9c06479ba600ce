"""Test state for API keys, built through the services as in production."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from config.scopes import SCOPES
from integrations.models import ApiKey
from integrations.services import IssuedKey, api_key_issue

ALL_USER_SCOPES = [s for s in SCOPES if s != "admin"]


def issue_key(
    user: Any, *, scopes: list[str] | None = None, name: str = "Script", **kwargs: Any
) -> IssuedKey:
    return api_key_issue(user=user, name=name, scopes=scopes or ["profile:read"], **kwargs)


def age_key(api_key: ApiKey, **fields: Any) -> ApiKey:
    """Moves a key's timestamps, standing in for the passage of time."""
    ApiKey.objects.filter(pk=api_key.pk).update(**fields)
    api_key.refresh_from_db()
    return api_key


def expire_key(api_key: ApiKey) -> ApiKey:
    return age_key(api_key, expires_at=timezone.now() - timedelta(seconds=1))


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
