"""Running a staff action over the rows an admin list selected, for every app's admin.

Each row is done in its own transaction (the service writes, audits and queues its e-mails
together); a refusal or conflict on one row is reported and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from config.admin import action_reason
from config.errors import ApplicationError

REASON_REQUIRED = (
    "Type a reason in the box next to the action: it is logged and, where the action affects "
    "someone, told to them."
)


def staff_action_run(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    act: Callable[[Any, str], object],
    *,
    done: str,
    reason_required: bool = True,
) -> int:
    """Calls ``act(row, reason)`` for each row; returns how many succeeded. Nothing runs without
    a reason when ``reason_required``."""
    reason = action_reason(request)
    if reason_required and not reason:
        modeladmin.message_user(request, REASON_REQUIRED, messages.ERROR)
        return 0
    succeeded = 0
    for row in rows:
        try:
            with transaction.atomic():
                act(row, reason)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done}: {succeeded}.", messages.SUCCESS)
    return succeeded
