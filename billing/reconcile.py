"""Reconciliation: re-sync customers, subscriptions and invoices from Stripe, for missed webhooks.

Every difference between the local copy and Stripe is fixed and reported, one line each; local
rows whose Stripe object is gone are reported separately. The result is the state the webhooks
would have left, grace periods included (counted from the failed renewal, not from the run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer, Invoice, Subscription

from billing.entitlements import entitlements_invalidate
from billing.models import GracePeriod
from billing.selectors import stripe_id
from billing.statuses import GRACE_ENDING_STATUSES, GRACE_STATUS

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


@dataclass
class ReconcileReport:
    """What a run fixed, and which local rows no longer have a Stripe object (kept, reported:
    Stripe never deletes subscriptions or invoices, so these point at a wrong key or account)."""

    fixed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def _first_failure_at(subscription: dict[str, Any], invoices: dict[str, dict[str, Any]]) -> datetime:
    """When the past-due renewal first failed, as the webhook would have recorded it: Stripe
    attempts a renewal invoice when it finalizes it, so its finalization time (else its creation,
    else the start of the unpaid period)."""
    invoice = invoices.get(stripe_id(subscription.get("latest_invoice"))) or {}
    transitions = invoice.get("status_transitions") or {}
    when = (
        transitions.get("finalized_at") or invoice.get("created") or subscription.get("current_period_start")
    )
    return datetime.fromtimestamp(int(when), tz=UTC) if when else timezone.now()


def _grace_reconcile(
    *, subscription: dict[str, Any], user_id: int, invoices: dict[str, dict[str, Any]]
) -> str:
    """Makes the grace period what the webhooks would have made it; returns a report line or ""."""
    if subscription.get("status") == GRACE_STATUS:
        started_at = _first_failure_at(subscription, invoices)
        _, created = GracePeriod.objects.get_or_create(
            subscription_id=subscription["id"],
            defaults={
                "user_id": user_id,
                "invoice_id": stripe_id(subscription.get("latest_invoice")),
                "started_at": started_at,
            },
        )
        if created:
            return f"grace period recorded from {started_at:%Y-%m-%d %H:%M} UTC (payment failure was missed)"
    elif (
        subscription.get("status") in GRACE_ENDING_STATUSES
        and GracePeriod.objects.filter(subscription_id=subscription["id"]).delete()[0]
    ):
        return "grace period ended"
    return ""


def _customer_reconcile(customer: Customer, report: ReconcileReport) -> bool:
    """Re-syncs one customer, its subscriptions and invoices; True when anything changed."""
    before = len(report.fixed)
    try:
        remote = stripe.Customer.retrieve(customer.id)
    except stripe.InvalidRequestError:
        report.gone.append(f"customer {customer.id}: gone from Stripe (local row kept)")
        return False
    report.fixed.extend(f"customer {customer.id}: {line}" for line in _sync("customer", Customer, remote))
    invoice_objs = list(stripe.Invoice.list(customer=customer.id, limit=100).auto_paging_iter())
    invoices = {obj.id: obj.to_dict() for obj in invoice_objs}
    remote_subs = set()
    for sub_obj in stripe.Subscription.list(customer=customer.id, status="all", limit=100).auto_paging_iter():
        sub = sub_obj.to_dict()
        remote_subs.add(sub["id"])
        report.fixed.extend(
            f"subscription {sub['id']}: {line}" for line in _sync("subscription", Subscription, sub_obj)
        )
        if customer.subscriber_id:
            line = _grace_reconcile(subscription=sub, user_id=customer.subscriber_id, invoices=invoices)
            if line:
                report.fixed.append(f"subscription {sub['id']}: {line}")
    for invoice_obj in invoice_objs:
        report.fixed.extend(
            f"invoice {invoice_obj.id}: {line}" for line in _sync("invoice", Invoice, invoice_obj)
        )
    for sub_id in (
        Subscription.objects.filter(customer=customer)
        .exclude(id__in=remote_subs)
        .values_list("id", flat=True)
    ):
        report.gone.append(f"subscription {sub_id}: gone from Stripe (local row kept)")
    for invoice_id in (
        Invoice.objects.filter(customer=customer).exclude(id__in=list(invoices)).values_list("id", flat=True)
    ):
        report.gone.append(f"invoice {invoice_id}: gone from Stripe (local row kept)")
    return len(report.fixed) > before


def reconcile(*, customers: Iterable[Customer] | None = None) -> ReconcileReport:
    """Re-syncs every linked customer (or the given ones) to the state the webhooks would have
    left: the synced objects, and grace periods counted from the failed renewal (so a user whose
    grace is already over stays downgraded). Returns what was fixed and what is gone."""
    report = ReconcileReport()
    qs = customers if customers is not None else Customer.objects.filter(subscriber__isnull=False)
    for customer in qs:
        if _customer_reconcile(customer, report) and customer.subscriber_id:
            entitlements_invalidate(user_id=customer.subscriber_id)
    return report
