"""Reconciliation: re-sync customers, subscriptions and invoices from Stripe, for missed webhooks.

Every difference between the local copy and Stripe is fixed and reported, one line each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer, Invoice, Subscription

from billing.entitlements import entitlements_invalidate
from billing.models import GracePeriod
from billing.statuses import GRACE_ENDING_STATUSES

# The fields compared, per kind: what a user would notice if it were stale.
WATCHED: dict[str, tuple[str, ...]] = {
    "customer": ("email", "deleted", "invoice_settings"),
    "subscription": ("status", "cancel_at_period_end", "current_period_end", "items"),
    "invoice": ("status", "amount_paid", "amount_due", "paid"),
}


def _diff(kind: str, before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return ["missing locally"]
    changes = []
    for key in WATCHED[kind]:
        old, new = before.get(key), after.get(key)
        if key == "items":
            old = [i.get("price", {}).get("id") for i in (old or {}).get("data", [])]
            new = [i.get("price", {}).get("id") for i in (new or {}).get("data", [])]
        elif key == "deleted":
            old, new = bool(old), bool(new)
        elif key == "invoice_settings":
            old = (old or {}).get("default_payment_method")
            new = (new or {}).get("default_payment_method")
        if old != new:
            changes.append(f"{key}: {old!r} -> {new!r}")
    return changes


@transaction.atomic
def _sync(kind: str, model: Any, obj: Any) -> list[str]:
    """Syncs one Stripe object (a StripeObject, as dj-stripe needs) when it differs locally."""
    fresh = obj.to_dict()
    local = model.objects.filter(id=fresh["id"]).first()
    before = dict(local.stripe_data) if local is not None else None
    changes = _diff(kind, before, fresh)
    if changes:
        model.sync_from_stripe_data(obj)
    return changes


def reconcile(*, customers: Iterable[Customer] | None = None) -> list[str]:
    """Re-syncs every linked customer (or the given ones); returns the report lines."""
    report: list[str] = []
    qs = customers if customers is not None else Customer.objects.filter(subscriber__isnull=False)
    for customer in qs:
        touched = False
        remote = stripe.Customer.retrieve(customer.id)
        for line in _sync("customer", Customer, remote):
            report.append(f"customer {customer.id}: {line}")
            touched = True
        for sub_obj in stripe.Subscription.list(
            customer=customer.id, status="all", limit=100
        ).auto_paging_iter():
            sub = sub_obj.to_dict()
            for line in _sync("subscription", Subscription, sub_obj):
                report.append(f"subscription {sub['id']}: {line}")
                touched = True
            if sub.get("status") == "past_due" and customer.subscriber_id:
                _, created = GracePeriod.objects.get_or_create(
                    subscription_id=sub["id"],
                    defaults={"user_id": customer.subscriber_id, "started_at": timezone.now()},
                )
                if created:
                    report.append(
                        f"subscription {sub['id']}: grace period started (payment failure was missed)"
                    )
                    touched = True
            elif (
                sub.get("status") in GRACE_ENDING_STATUSES
                and GracePeriod.objects.filter(subscription_id=sub["id"]).delete()[0]
            ):
                report.append(f"subscription {sub['id']}: grace period ended")
                touched = True
        for invoice_obj in stripe.Invoice.list(customer=customer.id, limit=100).auto_paging_iter():
            invoice = invoice_obj.to_dict()
            for line in _sync("invoice", Invoice, invoice_obj):
                report.append(f"invoice {invoice['id']}: {line}")
                touched = True
        if touched and customer.subscriber_id:
            entitlements_invalidate(user_id=customer.subscriber_id)
    return report
