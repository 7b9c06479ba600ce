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
    """One row per Stripe event id received with a valid signature: the delivery as received
    (raw body, headers, address, endpoint) and the queue the workers drain
    (``billing.webhook_intake``).

    The endpoint answers 2xx once this one row is inserted (``ON CONFLICT DO NOTHING`` on the
    unique ``event_id``: a duplicate delivery, also 50 at once, stores nothing new). Workers take
    due ``pending`` rows with ``FOR UPDATE SKIP LOCKED``; the worker that processes an event
    creates its dj-stripe ``WebhookEventTrigger`` (``trigger``), which the failed-event admin and
    its reprocess action read. ``attempts`` counts the claims, so an event that kills every
    worker that takes it ends ``failed`` instead of coming back for ever.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        DONE = "done", "Processed"
        FAILED = "failed", "Failed after every retry"

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=255)
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict)
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    endpoint = models.ForeignKey(
        "djstripe.WebhookEndpoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Made by the worker that first processes (or fails) the event; rows stored by an earlier
    # version of the intake have theirs from the start.
    trigger = models.OneToOneField(
        "djstripe.WebhookEventTrigger",
        on_delete=models.CASCADE,
        related_name="billing_inbox",
        null=True,
        blank=True,
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When a worker may take it: now on receipt, later while a retry backs off or while a
    # worker holds its claim (a lease: if that worker dies the row is due again after it).
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
