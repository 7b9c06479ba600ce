"""The whole account: data export and deletion, across every app (see accounts.lifecycle).

Deletion removes the user row. Every table that points at a user cascades (posts, follows,
keys, ...), so nothing personal is left behind by accident; apps that must act before that
(cancel a Stripe subscription, keep an anonymous fraud record) do it in their eraser.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.utils import timezone

from accounts import lifecycle
from accounts.models import NOTIFICATION_KINDS, Profile, SecurityEvent, User
from accounts.services import security_event_record
from accounts.services.profile import delete_files_on_commit
from config.errors import ConflictError

logger = logging.getLogger(__name__)

ACCOUNTS_SECTION = "accounts"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def accounts_export(user: User) -> dict[str, Any]:
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


def accounts_erase(user: User) -> None:
    """Removes what accounts holds about the user, ahead of the row's own deletion.

    Sessions are ended in the session store too (a cascade would only drop the list of them),
    and avatar files are deleted from storage once the deletion commits.
    """
    for session in UserSession.objects.filter(user=user):
        session.end()
    profile = Profile.objects.filter(user=user).first()
    if profile is not None:
        delete_files_on_commit([profile.avatar.name, profile.avatar_small.name])
        profile.delete()
    Authenticator.objects.filter(user=user).delete()
    EmailAddress.objects.filter(user=user).delete()
    SecurityEvent.objects.filter(user=user).delete()


@transaction.atomic
def account_export(*, user: User, request: HttpRequest | None = None) -> dict[str, Any]:
    """Everything the user owns, as JSON-serialisable data: one section per registered app.

    Recorded in the security log (an export is worth knowing about if someone else did it).
    """
    security_event_record(user=user, kind=SecurityEvent.Kind.DATA_EXPORTED, request=request)
    data: dict[str, Any] = {"exported_at": timezone.now().isoformat(), "format_version": 1}
    for section, exporter in lifecycle.exporters().items():
        data[section] = exporter(user)
    return data


@transaction.atomic
def account_delete(*, user: User) -> None:
    """Deletes the account and the user's personal data in every app, all or nothing.

    Runs every registered eraser (the accounts one last, so other apps can still read the
    user's e-mail or profile while they clean up), then deletes the user row, which cascades
    to everything else that points at it. Callers must have re-authenticated the user.
    Raises ``ConflictError`` if some app protects a row that still points at the user.
    """
    user_id = user.pk
    erasers = lifecycle.erasers()
    own = erasers.pop(ACCOUNTS_SECTION, accounts_erase)
    for eraser in erasers.values():
        eraser(user)
    own(user)
    try:
        with transaction.atomic():
            user.delete()
    except ProtectedError as exc:
        raise ConflictError("The account cannot be deleted yet; please contact support.") from exc
    logger.info("Account deleted", extra={"user_id": user_id})
