"""Reads for billing, scoped to the acting user (the staff figures at the end read whole tables).

Stripe's objects are dj-stripe rows whose fields mostly live in ``stripe_data`` (in the shape
of ``settings.STRIPE_API_VERSION``); these helpers are the only place that reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from djstripe.models import (
    Charge,
    Customer,
    Dispute,
    Invoice,
    PaymentMethod,
    Price,
    Product,
    Refund,
    Subscription,
)

from accounts.models import User
from billing.models import GracePeriod
from billing.plans import PlanLimits, free_plan, plan_from_metadata
from billing.statuses import LIVE_STATUSES
from config.errors import NotFoundError

# Order of preference when a user has several subscriptions (e.g. an old canceled one).
_STATUS_ORDER = {
    "active": 0,
    "trialing": 1,
    "past_due": 2,
    "unpaid": 3,
    "incomplete": 4,
    "paused": 5,
    "incomplete_expired": 8,
    "canceled": 9,
}


@dataclass(frozen=True)
class CatalogueEntry:
    plan: PlanLimits
    product: Product | None
    monthly: Price | None
    yearly: Price | None


def stripe_id(value: Any) -> str:
    """The id of a Stripe reference, whether it came expanded (a dict or StripeObject) or bare."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(getattr(value, "id", value) or "")


def _livemode() -> bool:
    return bool(settings.STRIPE_LIVE_MODE)


def plan_list_on_sale() -> list[CatalogueEntry]:
    """Every plan on sale, free first, then by the product's ``rank`` metadata."""
    products = (
        Product.objects.filter(active=True, livemode=_livemode())
        .prefetch_related(Prefetch("prices", queryset=Price.objects.filter(active=True).order_by("created")))
        .order_by("created")
    )
    entries: list[CatalogueEntry] = []
    for product in products:
        plan = plan_from_metadata(name=product.name, metadata=product.metadata)
        if plan is None:
            continue
        monthly = yearly = None
        for price in product.prices.all():
            interval = (price.recurring or {}).get("interval")
            if interval == "month" and monthly is None:
                monthly = price
            elif interval == "year" and yearly is None:
                yearly = price
        if monthly or yearly:
            entries.append(CatalogueEntry(plan=plan, product=product, monthly=monthly, yearly=yearly))
    entries.sort(key=lambda e: (e.plan.rank, e.plan.code))
    return [CatalogueEntry(plan=free_plan(), product=None, monthly=None, yearly=None), *entries]


def price_get_for_sale(*, price_id: str) -> tuple[Price, PlanLimits]:
    """An active recurring price of a plan product, or NotFoundError."""
    price = (
        Price.objects.select_related("product")
        .filter(id=price_id, active=True, livemode=_livemode(), product__active=True)
        .first()
    )
    plan = plan_from_metadata(name=price.product.name, metadata=price.product.metadata) if price else None
    if price is None or plan is None or not price.recurring:
        raise NotFoundError(
            "There is no plan with this price.", code="unknown_price", fields={"price_id": ["Unknown price."]}
        )
    return price, plan


def customer_get_for_user(*, user: User) -> Customer | None:
    return (
        Customer.objects.filter(subscriber=user, livemode=_livemode(), date_purged__isnull=True)
        .order_by("created")
        .first()
    )


def subscription_list_for_user(*, user: User) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(customer__subscriber=user, livemode=_livemode())
        .select_related("customer")
        .order_by("-created")
    )


def subscription_status(subscription: Subscription) -> str:
    return str(subscription.stripe_data.get("status") or "")


def subscription_get_current_for_user(*, user: User) -> Subscription | None:
    """The subscription that decides the user's plan: the best status, then the newest."""
    best: Subscription | None = None
    best_rank = 99
    for subscription in subscription_list_for_user(user=user):
        rank = _STATUS_ORDER.get(subscription_status(subscription), 9)
        if rank < best_rank:
            best, best_rank = subscription, rank
    return best


def subscription_get_live_for_user(*, user: User) -> Subscription | None:
    """The user's subscription that still runs (may be changed, cancelled or resumed)."""
    subscription = subscription_get_current_for_user(user=user)
    if subscription is None or subscription_status(subscription) not in LIVE_STATUSES:
        return None
    return subscription


def subscription_item(subscription: Subscription) -> dict[str, Any]:
    items = (subscription.stripe_data.get("items") or {}).get("data") or []
    return dict(items[0]) if items else {}


def subscription_price_id(subscription: Subscription) -> str | None:
    price = subscription_item(subscription).get("price") or subscription.stripe_data.get("plan") or {}
    if isinstance(price, str):
        return price
    return price.get("id")


def subscription_plan(subscription: Subscription) -> PlanLimits | None:
    """The plan a subscription pays for, read from its product's synced metadata."""
    price_id = subscription_price_id(subscription)
    if not price_id:
        return None
    price = Price.objects.select_related("product").filter(id=price_id).first()
    if price is None:
        return None
    return plan_from_metadata(name=price.product.name, metadata=price.product.metadata)


def invoice_list_for_user(*, user: User) -> QuerySet[Invoice]:
    return Invoice.objects.filter(customer__subscriber=user, livemode=_livemode())


def payment_method_get_for_user(*, user: User) -> dict[str, Any] | None:
    """The card invoices are charged to: brand, last 4 and expiry, or None."""
    customer = customer_get_for_user(user=user)
    if customer is None:
        return None
    candidates: list[str] = []
    default_pm = (customer.stripe_data.get("invoice_settings") or {}).get("default_payment_method")
    subscription = subscription_get_live_for_user(user=user)
    if subscription is not None and subscription.stripe_data.get("default_payment_method"):
        candidates.append(stripe_id(subscription.stripe_data["default_payment_method"]))
    if default_pm:
        candidates.append(stripe_id(default_pm))
    methods = {pm.id: pm for pm in PaymentMethod.objects.filter(customer=customer)}
    chosen = next((methods[c] for c in candidates if c in methods), None)
    if chosen is None and methods:
        chosen = max(methods.values(), key=lambda pm: pm.created or pm.djstripe_created)
    if chosen is None:
        return None
    card = chosen.stripe_data.get("card") or {}
    return {
        "id": chosen.id,
        "brand": card.get("brand", ""),
        "last4": card.get("last4", ""),
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
    }


def invoice_get_for_user(*, user: User, invoice_id: str) -> Invoice:
    invoice = invoice_list_for_user(user=user).filter(id=invoice_id).first()
    if invoice is None:
        raise NotFoundError("No such invoice.")
    return invoice


def grace_period_end_get(*, user: User, subscription_id: str) -> datetime | None:
    """When the grace period of a past-due subscription ends, or None when none was recorded."""
    grace = GracePeriod.objects.filter(subscription_id=subscription_id, user=user).first()
    if grace is None:
        return None
    return grace.started_at + timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)


def user_list_without_customer() -> QuerySet[User]:
    """Active users with a verified address and no (unpurged) Stripe customer in this mode."""
    has_customer = Customer.objects.filter(
        subscriber=OuterRef("pk"), livemode=_livemode(), date_purged__isnull=True
    )
    verified = EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(verified))
        .exclude(Exists(has_customer))
        .order_by("pk")
    )


def card_fingerprints_list_for_user(*, user: User) -> frozenset[str]:
    """Fingerprints of the cards the user paid with or saved (from dj-stripe's synced rows)."""
    saved = PaymentMethod.objects.filter(customer__subscriber=user).values_list(
        "stripe_data__card__fingerprint", flat=True
    )
    charged = Charge.objects.filter(customer__subscriber=user).values_list(
        "stripe_data__payment_method_details__card__fingerprint", flat=True
    )
    return frozenset(str(fp) for fp in [*saved, *charged] if fp)


# --- Staff figures ---------------------------------------------------------------------------------
# Whole-table reads for the staff dashboard's daily figures (staff.business), in this Stripe mode;
# run by the daily-figures task, never per page view. Windows are half-open: ``start <= t < end``.


def price_list_product_names() -> dict[str, str]:
    """Price id -> its product's name, for every price (a small table)."""
    rows = Price.objects.values_list("id", "product__name")
    return {price_id: name or "" for price_id, name in rows}


def subscription_list_stripe_data() -> Iterator[tuple[str, dict[str, Any]]]:
    """(customer id, Stripe data) of every subscription, streamed in chunks."""
    rows = Subscription.objects.filter(livemode=_livemode()).values_list("customer_id", "stripe_data")
    for customer_id, data in rows.iterator(chunk_size=2000):
        yield str(customer_id), data


def charge_list_failed(*, start: datetime, end: datetime) -> QuerySet[Charge]:
    """Charges that failed in the window."""
    return Charge.objects.filter(livemode=_livemode(), status="failed", created__gte=start, created__lt=end)


def refund_list(*, start: datetime, end: datetime) -> QuerySet[Refund]:
    """Refunds created in the window."""
    return Refund.objects.filter(livemode=_livemode(), created__gte=start, created__lt=end)


def dispute_list_amounts(*, start: datetime, end: datetime) -> list[int]:
    """The amount (cents) of every dispute opened in the window."""
    rows = Dispute.objects.filter(livemode=_livemode(), created__gte=start, created__lt=end)
    return [int(a or 0) for a in rows.values_list("stripe_data__amount", flat=True)]


def invoice_list_paid_amounts(
    *, start: datetime, end: datetime, subscriber_ids: QuerySet[Any] | None = None
) -> list[int]:
    """The amount paid (cents) of every invoice paid in the window, optionally only those of the
    customers of ``subscriber_ids`` (a queryset of user ids)."""
    paid = Invoice.objects.filter(
        livemode=_livemode(),
        stripe_data__status="paid",
        stripe_data__status_transitions__paid_at__gte=int(start.timestamp()),
        stripe_data__status_transitions__paid_at__lt=int(end.timestamp()),
    )
    if subscriber_ids is not None:
        paid = paid.filter(customer__subscriber_id__in=subscriber_ids)
    return [int(a or 0) for a in paid.values_list("stripe_data__amount_paid", flat=True)]
