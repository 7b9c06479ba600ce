"""Dunning: what a customer whose renewal failed hears, and when (docs/billing.md, "Dunning").

Stripe retries a failed renewal on its own schedule (``invoice.next_payment_attempt``: 3, 5 and 7
days apart by default; Smart Retries may choose other times), and the app keeps paid features for
``BILLING_GRACE_PERIOD_DAYS`` after the first failure. On top of the failure e-mail sent by the
webhook (``services.payment_failed_record``), ``dunning_notices_send`` (Celery beat, hourly) sends:

- a reminder ``BILLING_DUNNING_REMINDER_HOURS`` before each retry Stripe has scheduled, once per
  retry (keyed by the invoice and its attempt count, so a rescheduled retry is not re-announced);
- a final notice ``BILLING_DUNNING_FINAL_NOTICE_HOURS`` before the grace period ends and the plan
  falls back to free, once per grace period.

Each e-mail carries a link to the billing page (update the card) and to Stripe's hosted invoice
(pay it now). They go through the outbox with a ``dedupe_key``: sent once, however often the
sweep runs, and retried until the SMTP server accepts them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djstripe.models import Invoice, Subscription

from billing.models import GracePeriod
from billing.notifications import notification_email_enqueue
from billing.selectors import stripe_id
from billing.statuses import GRACE_STATUS

# Subscription statuses in which Stripe is still retrying a failed renewal.
RETRYING_STATUSES = frozenset({"past_due", "unpaid"})


def _billing_url() -> str:
    return f"{settings.SITE_URL}/billing/#payment-method"


def _reminders_due(*, now: datetime) -> list[Invoice]:
    lead = timedelta(hours=settings.BILLING_DUNNING_REMINDER_HOURS)
    return list(
        Invoice.objects.filter(
            stripe_data__status="open",
            stripe_data__next_payment_attempt__gt=int(now.timestamp()),
            stripe_data__next_payment_attempt__lte=int((now + lead).timestamp()),
            customer__subscriber__isnull=False,
        )
        .exclude(stripe_data__billing_reason="subscription_create")
        .select_related("customer__subscriber")
        .order_by("pk")
    )


def _retry_reminders_send(*, now: datetime) -> int:
    sent = 0
    for invoice in _reminders_due(now=now):
        data = invoice.stripe_data
        subscription = Subscription.objects.filter(id=stripe_id(data.get("subscription"))).first()
        if subscription is None or subscription.stripe_data.get("status") not in RETRYING_STATUSES:
            continue
        user = invoice.customer.subscriber
        notification_email_enqueue(
            user=user,
            template="dunning_reminder",
            dedupe_key=f"billing:dunning-reminder:{invoice.id}:{int(data.get('attempt_count') or 0)}",
            context={
                "retry_at": datetime.fromtimestamp(int(data["next_payment_attempt"]), tz=UTC),
                "amount": int(data.get("amount_due") or 0) / 100,
                "currency": str(data.get("currency") or "usd").upper(),
                "billing_url": _billing_url(),
                "invoice_url": data.get("hosted_invoice_url") or "",
            },
        )
        sent += 1
    return sent


def _final_notices_send(*, now: datetime) -> int:
    grace = timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
    lead = timedelta(hours=settings.BILLING_DUNNING_FINAL_NOTICE_HOURS)
    due = GracePeriod.objects.filter(
        started_at__gt=now - grace, started_at__lte=now - grace + lead
    ).select_related("user")
    sent = 0
    for period in due.order_by("pk"):
        subscription = Subscription.objects.filter(id=period.subscription_id).first()
        if subscription is None or subscription.stripe_data.get("status") != GRACE_STATUS:
            continue
        invoice = Invoice.objects.filter(id=period.invoice_id).first() if period.invoice_id else None
        notification_email_enqueue(
            user=period.user,
            template="dunning_final",
            dedupe_key=f"billing:dunning-final:{period.subscription_id}:{int(period.started_at.timestamp())}",
            context={
                "grace_ends_at": period.started_at + grace,
                "billing_url": _billing_url(),
                "invoice_url": (invoice.stripe_data.get("hosted_invoice_url") if invoice else "") or "",
            },
        )
        sent += 1
    return sent


@transaction.atomic
def dunning_notices_send(*, now: datetime | None = None) -> int:
    """Queues every reminder and final notice now due (see the module docstring); each e-mail
    once. Returns how many were due (already sent ones included: the outbox drops repeats)."""
    now = now or timezone.now()
    return _retry_reminders_send(now=now) + _final_notices_send(now=now)
