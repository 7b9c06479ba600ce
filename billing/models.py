"""The billing app's own rows. Stripe's objects live in dj-stripe's tables.

Each side effect the project takes on a Stripe event carries its own unique key here, so a
duplicate, concurrent or out-of-order delivery (or two events for one payment, such as
``invoice.paid`` and ``invoice.payment_succeeded``) produces it once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from djstripe.models import Customer


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


class WebhookInbox(models.Model):
    """One row per Stripe event id received with a valid signature: the source of truth for
    processing (``billing.webhook_intake``).

    The endpoint stores the delivery (dj-stripe's ``WebhookEventTrigger``, which the failed-event
    admin and reprocess read) and this row in one transaction, answers 2xx and leaves the work to
    a Celery task. The unique ``event_id`` makes a duplicate delivery, also 50 at once, store
    nothing new. A row still ``pending`` well past ``next_attempt_at`` had its task lost (a
    worker killed mid-event, a broker restart) and is queued again by the sweep.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        DONE = "done", "Processed"
        FAILED = "failed", "Failed after every retry"

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=255)
    trigger = models.OneToOneField(
        "djstripe.WebhookEventTrigger", on_delete=models.CASCADE, related_name="billing_inbox"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When a worker is expected to have it: now on receipt, later while a retry backs off.
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook inbox"
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(state="pending"), name="billing_inbox_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.state})"


class StaffBillingAction(Customer):
    """Holds the permissions of staff money actions (no table of its own: a proxy with no admin).

    Each action checks its own permission, so a support role can re-sync a customer without
    being able to refund, and a view-only staff member can do none of them. The codenames are
    ``billing.<codename>``; the role groups grant them.
    """

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = "staff billing action"
        permissions = [
            ("refund_charge", "Can refund a charge (full or partial)"),
            ("credit_customer", "Can add credit to a customer's balance"),
            ("cancel_subscription", "Can cancel a subscription for its customer"),
            ("resume_subscription", "Can resume a subscription for its customer"),
            ("resync_customer", "Can re-sync a customer from Stripe"),
            ("reprocess_webhook", "Can reprocess a failed webhook delivery"),
            ("export_billing", "Can export subscription and payment lists as CSV"),
        ]
