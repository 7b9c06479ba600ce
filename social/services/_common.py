"""What every social service shares: the suspended-account check and queuing a task after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from config.errors import PermissionDeniedError


def require_active(user: User) -> None:
    if not user.is_active:
        raise PermissionDeniedError("Your account is suspended.", code="suspended")


def on_commit_task(task: Any, *args: Any) -> None:
    """Queues ``task`` once the current transaction commits (never for a rolled-back write)."""
    transaction.on_commit(lambda: task.delay(*args))
