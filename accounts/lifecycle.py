"""What each app contributes when a user exports their data or deletes their account.

Every app that stores personal data registers, in its ``AppConfig.ready()``, two hooks from its
own ``<app>/lifecycle.py``:
- an exporter ``<app>_export(*, user) -> JSON-serialisable data``, placed under its section name;
- an eraser ``<app>_erase(*, user) -> None``, run inside the deletion transaction, which removes
  or anonymises that app's data (and may schedule outbound calls with ``transaction.on_commit``).

The registry calls every hook with ``user=`` as a keyword. This module also holds accounts' own
two hooks (``accounts_export``, ``accounts_erase``).
"""

from __future__ import annotations

from typing import Any, Protocol

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession

from accounts.models import NOTIFICATION_KINDS, Profile, SecurityEvent, User
from accounts.services.profile import avatar_files_delete_on_commit

ACCOUNTS_SECTION = "accounts"


class Exporter(Protocol):
    def __call__(self, *, user: User) -> Any: ...


class Eraser(Protocol):
    def __call__(self, *, user: User) -> None: ...


_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_exporter(section: str, exporter: Exporter) -> None:
    _exporters[section] = exporter


def register_eraser(section: str, eraser: Eraser) -> None:
    _erasers[section] = eraser


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def accounts_export(*, user: User) -> dict[str, Any]:
    """The accounts section of a data export: who the user is and what the account recorded.

    No secrets: no password hash, no session keys, no two-factor secrets or recovery codes.
    """
    profile = Profile.objects.filter(user=user).first()
    return {
        "user": {
            "id": user.pk,
            "email": user.email,
            "handle": user.handle,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
        },
        "profile": (
            {
                "display_name": profile.display_name,
                "bio": profile.bio,
                "website": profile.website,
                "location": profile.location,
                "avatar": profile.avatar.url if profile.avatar else None,
                "avatar_small": profile.avatar_small.url if profile.avatar_small else None,
                "is_private": profile.is_private,
                "timezone": profile.timezone,
                "notification_preferences": {
                    kind: profile.wants_notification(kind) for kind in NOTIFICATION_KINDS
                },
                "email_notifications": profile.email_notifications,
                # Kinds stopped by an e-mail's unsubscribe link (the in-app choice stays above).
                "notification_email_preferences": {
                    kind: bool(profile.notification_email_preferences.get(kind, True))
                    for kind in NOTIFICATION_KINDS
                },
                "updated_at": _iso(profile.updated_at),
            }
            if profile is not None
            else None
        ),
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
        ],
        "two_factor": [
            {"type": a.type, "created_at": _iso(a.created_at), "last_used_at": _iso(a.last_used_at)}
            for a in Authenticator.objects.filter(user=user).order_by("created_at")
        ],
        "sessions": [
            {
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
            }
            for s in UserSession.objects.filter(user=user).order_by("-last_seen_at")
        ],
        "security_log": [
            {
                "kind": e.kind,
                "ip_address": e.ip_address,
                "user_agent": e.user_agent,
                "detail": e.detail,
                "created_at": _iso(e.created_at),
            }
            for e in SecurityEvent.objects.filter(user=user).order_by("created_at", "id")
        ],
    }


def accounts_erase(*, user: User) -> None:
    """Removes what accounts holds about the user, ahead of the row's own deletion.

    Sessions are ended in the session store too (a cascade would only drop the list of them),
    and avatar files are deleted from storage once the deletion commits.
    """
    for session in UserSession.objects.filter(user=user):
        session.end()
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        avatar_files_delete_on_commit([profile.avatar.name, profile.avatar_small.name])
        profile.delete()
    Authenticator.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    SecurityEvent.objects.filter(user=user).delete()
