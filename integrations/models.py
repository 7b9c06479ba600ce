"""Personal API keys.

The database never holds a usable key: only its public id (to find the row) and the SHA-256 of
the whole key (to check it). See integrations/keys.py for the format.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.scopes import STAFF_ONLY_SCOPES
from integrations.keys import display_prefix


class ApiKey(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ROTATING = "rotating", "Rotated, in grace period"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    public_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    # A list of scope names. JSON rather than an array so that local SQLite works too.
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Rotation: the new key points at the one it replaced; the old one works until its grace ends.
    rotated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to"
    )
    grace_expires_at = models.DateTimeField(null=True, blank=True)
    expiry_warning_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="integrations_apikey_user"),
            models.Index(
                fields=["expires_at"],
                name="integrations_apikey_expiring",
                condition=models.Q(revoked_at__isnull=True, expiry_warning_sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"

    @property
    def display_prefix(self) -> str:
        return display_prefix(self.public_id)

    @property
    def api_key_scopes(self) -> frozenset[str]:
        """The scopes this key grants now: never more than its owner may do.

        Staff-only scopes stop counting as soon as the owner is no longer staff.
        """
        granted = frozenset(self.scopes)
        if not self.user.is_staff:
            granted -= STAFF_ONLY_SCOPES
        return granted

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.grace_expires_at is not None:
            return self.Status.ROTATING if self.grace_expires_at > now else self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    @property
    def status_label(self) -> str:
        return str(self.Status(self.status).label)

    @property
    def is_usable(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.ROTATING)


class ApiKeyAddress(models.Model):
    """An IP address a key has been used from, so that the first use from a new one is logged."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="addresses")
    ip_address = models.GenericIPAddressField()
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "ip_address"], name="integrations_apikeyaddr_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ip_address} for {self.api_key_id}"
