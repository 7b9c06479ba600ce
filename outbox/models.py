"""One row per e-mail the product sends, written in the same transaction as the decision."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """An e-mail recorded for delivery.

    ``pending`` until an SMTP server accepted it (``sent``), or ``failed`` after the last
    attempt. ``dedupe_key`` makes a once-only message (a dunning notice, a key-expiry warning)
    one row however often its cause is replayed. The text and HTML bodies are cleared once the
    message is sent: they may hold sign-in or password-reset links, which must not linger.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    to = models.JSONField(help_text="Recipient addresses.")
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    from_email = models.CharField(max_length=320)
    subject = models.CharField(max_length=998)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbound e-mail"
        indexes = [
            # The sweep's query: pending rows whose next attempt is due.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "-created_at"], name="outbox_status_created"),
        ]
        permissions = [("retry_outboundemail", "Can retry sending an outbound e-mail")]

    def __str__(self) -> str:
        return f"{', '.join(self.to)}: {self.subject}"
