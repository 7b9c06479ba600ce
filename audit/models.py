"""The staff audit log: who did what to whom, why, and when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEntry(models.Model):
    """One staff write. Kept when the staff member or the target user is deleted: both are
    ``SET_NULL`` with a snapshot of who they were. Nobody edits or deletes an entry (the admin is
    read-only for everyone, superusers included)."""

    class Kind(models.TextChoices):
        ADMIN_ADD = "admin_add", "Admin: added"
        ADMIN_CHANGE = "admin_change", "Admin: changed"
        ADMIN_DELETE = "admin_delete", "Admin: deleted"
        ACCOUNT = "account", "Account action"
        SECURITY = "security", "Security action"
        MODERATION = "moderation", "Moderation"
        BILLING = "billing", "Billing action"
        REFERRALS = "referrals", "Referrals action"
        IMPERSONATION = "impersonation", "Impersonation"
        EXPORT = "export", "CSV export"
        OUTBOX = "outbox", "E-mail outbox action"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=320, help_text="Who the staff member was, kept if they are deleted."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    action = models.CharField(max_length=80, help_text='What was done, e.g. "user.suspend".')
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_label = models.CharField(max_length=320, blank=True)
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="Changed fields, amounts, …")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["target_user", "-created_at"]),
            models.Index(fields=["kind", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label or self.object_repr}".strip()
