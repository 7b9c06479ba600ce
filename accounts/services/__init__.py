"""Writes for accounts: profiles, the security log, deactivation."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.models import Profile, SecurityEvent, User
from accounts.request_info import client_ip, user_agent


def profile_ensure(*, user: User) -> Profile:
    """The user's profile, created on first need (every user has exactly one)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def security_event_record(
    *,
    user: User,
    kind: str,
    request: HttpRequest | None = None,
    ip_address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Appends one line to the user's security log. ``detail`` must never hold a secret."""
    return SecurityEvent.objects.create(
        user=user,
        kind=kind,
        ip_address=ip_address if ip_address is not None else (client_ip(request) if request else None),
        user_agent=user_agent(request) if request else "",
        detail=detail or {},
    )


@transaction.atomic
def user_deactivate(*, user: User, reason: str, actor: User | None = None) -> None:
    """Deactivates the account and ends every one of its sessions at once.

    A deactivated user cannot sign in, and their API keys stop working (key authentication
    checks ``is_active``). Staff deactivation and moderation suspensions both come here.
    """
    from allauth.usersessions.models import UserSession

    user.is_active = False
    user.save(update_fields=["is_active"])
    for session in UserSession.objects.filter(user=user):
        session.end()
    security_event_record(
        user=user,
        kind=SecurityEvent.Kind.ACCOUNT_DEACTIVATED,
        detail={"reason": reason, "by": actor.handle if actor else None},
    )
