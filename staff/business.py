"""Business figures from dj-stripe's synced tables, read-only.

The rows come from billing's selectors (``billing.selectors``, "Staff figures"): staff never
touches dj-stripe itself. Subscription data is ``stripe_data`` in the shape of
``settings.STRIPE_API_VERSION``. These run in the daily-figures task only: they walk every
subscription once, never per page view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from billing.models import GracePeriod
from billing.selectors import (
    charge_list_failed,
    dispute_list_amounts,
    invoice_list_paid_amounts,
    price_list_product_names,
    refund_list,
    subscription_list_stripe_data,
)
from billing.statuses import LIVE_STATUSES
from referrals.models import Referral
from staff.models import CustomerMrr

# Statuses whose subscription counts in MRR: paying, or past due within its grace period.
MRR_STATUSES = frozenset({"active", "past_due"})
_MONTHS_PER_INTERVAL = {"month": 1.0, "year": 1 / 12, "week": 52 / 12, "day": 365 / 12}


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def _price_of(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price") or item.get("plan") or {}
    return price if isinstance(price, dict) else {}


def subscription_mrr_cents(data: dict[str, Any]) -> int:
    """A subscription's monthly recurring revenue in cents: every item's unit amount times its
    quantity, brought to a month (a yearly price counts a twelfth); zero unless it pays now."""
    if data.get("status") not in MRR_STATUSES:
        return 0
    total = 0.0
    for item in (data.get("items") or {}).get("data") or []:
        price = _price_of(item)
        recurring = price.get("recurring") or {}
        interval = recurring.get("interval") or price.get("interval") or "month"
        count = recurring.get("interval_count") or price.get("interval_count") or 1
        amount = int(price.get("unit_amount") or price.get("amount") or 0)
        total += amount * int(item.get("quantity") or 1) * _MONTHS_PER_INTERVAL.get(interval, 1.0) / count
    return round(total)


@dataclass
class Movements:
    """How MRR moved between two closings, by customer (amounts in cents, all positive)."""

    new: int = 0
    expansion: int = 0
    contraction: int = 0
    churned: int = 0
    reactivation: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    state: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def add(self, customer_id: str, before: int, ever_paid: bool, now: int) -> None:
        if before == 0 and now > 0:
            kind = "reactivation" if ever_paid else "new"
        elif before > 0 and now == 0:
            kind = "churned"
        elif now > before:
            kind = "expansion"
        elif now < before:
            kind = "contraction"
        else:
            return
        setattr(self, kind, getattr(self, kind) + abs(now - before))
        self.counts[kind] += 1


def mrr_movements(*, mrr_by_customer: dict[str, int]) -> Movements:
    """Compares each customer's MRR now with the last closing (``CustomerMrr``)."""
    movements = Movements()
    previous = {row.customer_id: row for row in CustomerMrr.objects.all().iterator(chunk_size=5000)}
    for customer_id in previous.keys() | mrr_by_customer.keys():
        row = previous.get(customer_id)
        before, ever_paid = (row.mrr_cents, row.ever_paid) if row else (0, False)
        now = mrr_by_customer.get(customer_id, 0)
        movements.add(customer_id, before, ever_paid, now)
        movements.state[customer_id] = (now, ever_paid or now > 0)
    return movements


def mrr_state_save(*, movements: Movements, day: date) -> None:
    """Stores each customer's MRR as of the closing of ``day`` (the next closing compares to it)."""
    rows = [
        CustomerMrr(customer_id=cid, mrr_cents=mrr, ever_paid=ever_paid, updated_on=day)
        for cid, (mrr, ever_paid) in movements.state.items()
    ]
    CustomerMrr.objects.bulk_create(
        rows,
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["customer_id"],
        update_fields=["mrr_cents", "ever_paid", "updated_on"],
    )


def _in_window(value: Any, start: int, end: int) -> bool:
    return isinstance(value, int) and start <= value < end


def subscription_figures(*, start: datetime, end: datetime) -> tuple[dict[str, Any], dict[str, int]]:
    """One pass over every subscription: MRR by customer, live subscriptions by plan, trials."""
    plan_names = price_list_product_names()
    window = (_ts(start), _ts(end))
    now = _ts(timezone.now())  # a trial ending later today has not ended yet
    mrr_by_customer: Counter[str] = Counter()
    by_plan: Counter[str] = Counter()
    trials = Counter[str]()
    for customer_id, data in subscription_list_stripe_data():
        status = data.get("status")
        mrr = subscription_mrr_cents(data)
        if mrr:
            mrr_by_customer[customer_id] += mrr
        if status in LIVE_STATUSES:
            items = (data.get("items") or {}).get("data") or [{}]
            by_plan[plan_names.get(str(_price_of(items[0]).get("id")), "") or "Unknown plan"] += 1
        if _in_window(data.get("trial_start"), *window):
            trials["trial_starts"] += 1
        if _in_window(data.get("trial_end"), window[0], min(window[1], now)):
            trials["trials_ended"] += 1
            trials["trials_converted"] += status in MRR_STATUSES
        trials["trialing"] += status == "trialing"
    figures = {
        "subscriptions_by_plan": dict(sorted(by_plan.items())),
        "subscriptions_live": sum(by_plan.values()),
        **{key: trials[key] for key in ("trial_starts", "trials_ended", "trials_converted", "trialing")},
    }
    return figures, dict(mrr_by_customer)


def payment_figures(*, start: datetime, end: datetime) -> dict[str, Any]:
    """Failed payments, refunds, disputes, revenue and referral-driven revenue of a window."""
    refunds = refund_list(start=start, end=end).aggregate(n=Count("pk"), cents=Sum("amount"))
    disputes = dispute_list_amounts(start=start, end=end)
    referred = Referral.objects.values("referred_id")
    return {
        "failed_payments": charge_list_failed(start=start, end=end).count(),
        "accounts_in_grace": GracePeriod.objects.count(),
        "refunds": refunds["n"] or 0,
        "refunds_cents": int(refunds["cents"] or 0),
        "disputes": len(disputes),
        "disputes_cents": sum(disputes),
        "revenue_cents": sum(invoice_list_paid_amounts(start=start, end=end)),
        "referral_revenue_cents": sum(
            invoice_list_paid_amounts(start=start, end=end, subscriber_ids=referred)
        ),
    }


def business_figures(*, day: date, start: datetime, end: datetime, final: bool) -> dict[str, Any]:
    """Every business figure of a day. A final run stores each customer's MRR for the next one."""
    figures, mrr_by_customer = subscription_figures(start=start, end=end)
    movements = mrr_movements(mrr_by_customer=mrr_by_customer)
    if final:
        mrr_state_save(movements=movements, day=day)
    figures.update(payment_figures(start=start, end=end))
    figures.update(
        mrr_cents=sum(mrr_by_customer.values()),
        paying_customers=sum(1 for v in mrr_by_customer.values() if v > 0),
        mrr_new_cents=movements.new,
        mrr_expansion_cents=movements.expansion,
        mrr_contraction_cents=movements.contraction,
        mrr_churned_cents=movements.churned,
        mrr_reactivation_cents=movements.reactivation,
        customers_new=movements.counts["new"],
        customers_churned=movements.counts["churned"],
        customers_reactivated=movements.counts["reactivation"],
    )
    return figures
