"""The billing app's own rows. Stripe's objects live in dj-stripe's tables.

Each side effect the project takes on a Stripe event carries its own unique key here, so a
duplicate, concurrent or out-of-order delivery (or two events for one payment, such as
``invoice.paid`` and ``invoice.payment_succeeded``) produces it once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BillingNotification(models.Model):
    """An e-mail the billing app sent once, keyed by what it is about."""

    class Kind(models.TextChoices):
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        TRIAL_ENDING = "trial_ending", "Trial ending"
        PAYMENT_RECEIVED = "payment_received", "Payment received"
        REFUNDED = "refunded", "Refund issued"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The Stripe object the e-mail is about (an invoice, a subscription period, a charge).
    stripe_object_id = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_notifications"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "stripe_object_id"], name="billing_notification_once"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.stripe_object_id}"


class GracePeriod(models.Model):
    """When a subscription's renewal first failed: paid features last for the grace period.

    Created by the first ``invoice.payment_failed`` of a subscription (later failures keep the
    first date) and removed when an invoice of it is paid.
    """

    subscription_id = models.CharField(max_length=255, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invoice_id = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"grace {self.subscription_id} since {self.started_at:%Y-%m-%d}"
