"""The whole account: data export and deletion, across every app (see accounts.lifecycle).

Deletion removes the user row. Every table that points at a user cascades (posts, follows,
keys, ...), so nothing personal is left behind by accident; apps that must act before that
(cancel a Stripe subscription, keep an anonymous fraud record) do it in their eraser.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.utils import timezone

from accounts import lifecycle
from accounts.models import SecurityEvent, User
from accounts.services import security_event_record
from config.errors import ConflictError

logger = logging.getLogger(__name__)


@transaction.atomic
def account_export(*, user: User, request: HttpRequest | None = None) -> dict[str, Any]:
    """Everything the user owns, as JSON-serialisable data: one section per registered app.

    Recorded in the security log (an export is worth knowing about if someone else did it).
    """
    security_event_record(user=user, kind=SecurityEvent.Kind.DATA_EXPORTED, request=request)
    data: dict[str, Any] = {"exported_at": timezone.now().isoformat(), "format_version": 1}
    for section, exporter in lifecycle.exporters().items():
        data[section] = exporter(user=user)
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
    own = erasers.pop(lifecycle.ACCOUNTS_SECTION, lifecycle.accounts_erase)
    for eraser in erasers.values():
        eraser(user=user)
    own(user=user)
    try:
        with transaction.atomic():
            user.delete()
    except ProtectedError as exc:
        raise ConflictError("The account cannot be deleted yet; please contact support.") from exc
    logger.info("Account deleted", extra={"user_id": user_id})
