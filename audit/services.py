"""Recording staff writes. Every staff action (admin action, custom admin view, money action,
impersonation, moderation) calls ``audit_record`` in the same transaction as the write itself, so
an entry exists exactly when the write committed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from audit.models import AuditEntry

# Attributes that name the user an object is about, in the order they are tried.
TARGET_USER_ATTRIBUTES = ("user", "target_user", "author", "owner", "referred", "subscriber")


def user_label(user: Any) -> str:
    """How a user is shown in the log, kept after they are deleted."""
    if user is None:
        return ""
    handle = getattr(user, "handle", "") or ""
    email = getattr(user, "email", "") or ""
    return f"@{handle} <{email}>" if handle else email or f"user #{user.pk}"


def audit_target_user_for(obj: Any) -> AbstractBaseUser | None:
    """The user an object is about: itself if it is a user, else its first user-valued
    attribute among ``TARGET_USER_ATTRIBUTES`` (a report's target, a post's author, …)."""
    user_model = get_user_model()
    if isinstance(obj, user_model):
        return obj
    for attribute in TARGET_USER_ATTRIBUTES:
        value = getattr(obj, attribute, None)
        if isinstance(value, user_model):
            return value
    return None


def audit_record(
    *,
    actor: Any,
    kind: str,
    action: str,
    target_user: Any = None,
    obj: models.Model | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Writes one audit entry. ``target_user`` defaults to the user ``obj`` is about."""
    if target_user is None and obj is not None:
        target_user = audit_target_user_for(obj)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=user_label(actor) or "system",
        kind=kind,
        action=action,
        target_user=target_user,
        target_label=user_label(target_user),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        reason=reason,
        details=details or {},
    )
