"""Admin edits and deletes (Django's LogEntry) become audit entries, with the changed fields; so do
the staff actions of the apps below audit (``config.admin.staff_action_performed``: the outbox's
retry, every CSV export)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_save
from django.dispatch import receiver

from audit.models import AuditEntry
from audit.services import audit_record
from config.admin import staff_action_performed

KINDS = {
    ADDITION: (AuditEntry.Kind.ADMIN_ADD, "add"),
    CHANGE: (AuditEntry.Kind.ADMIN_CHANGE, "change"),
    DELETION: (AuditEntry.Kind.ADMIN_DELETE, "delete"),
}


def _changed_fields(change_message: str) -> list[str]:
    try:
        messages = json.loads(change_message or "[]")
    except ValueError:
        return []
    fields: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        for verb in ("changed", "added"):
            fields.extend(message.get(verb, {}).get("fields", []) if isinstance(message, dict) else [])
    return fields


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_log_entry")
def audit_admin_log_entry(sender: type[LogEntry], instance: LogEntry, created: bool, **kwargs: Any) -> None:
    """The admin logs an edit before a delete runs, so the object is still there to name its
    user."""
    if not created or instance.action_flag not in KINDS:
        return
    content_type = (
        ContentType.objects.get_for_id(instance.content_type_id) if instance.content_type_id else None
    )
    model = content_type.model_class() if content_type else None
    obj = model._default_manager.filter(pk=instance.object_id).first() if model else None
    label = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    kind, verb = KINDS[instance.action_flag]
    entry = audit_record(
        actor=instance.user,
        kind=kind,
        action=f"{label}.{verb}",
        obj=obj,
        details={"fields": _changed_fields(instance.change_message)},
    )
    if obj is None:
        AuditEntry.objects.filter(pk=entry.pk).update(
            object_type=label, object_id=instance.object_id or "", object_repr=instance.object_repr
        )


@receiver(staff_action_performed, dispatch_uid="audit_staff_action_performed")
def audit_staff_action_performed(
    sender: Any,
    *,
    actor: Any,
    kind: str,
    action: str,
    obj: Any = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    audit_record(actor=actor, kind=kind, action=action, obj=obj, reason=reason, details=details)
