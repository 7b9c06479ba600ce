"""Subscriptions and subscription items."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..engine import Engine, Obj, StripeError, not_found
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import LIST, allow, created_filter, json_roundtrip, refuse_automatic_tax, route, search
from .subscription_update import (
    cancellation_changes,
    field_changes,
    items_change,
    period_restart,
    prorations_invoice_now,
    subscription_discounts,
    trial_change,
    trial_end_now,
)

SUB_COMMON = "metadata default_payment_method description coupon promotion_code discounts cancel_at_period_end cancel_at trial_end proration_behavior payment_behavior collection_method days_until_due off_session payment_settings trial_settings billing_cycle_anchor default_tax_rates automatic_tax add_invoice_items"


def refuse_unsupported(p: Obj) -> None:
    """Parameters Stripe accepts but the stand-in does not model: refuse them rather than ignore
    them silently (harmless defaults pass)."""
    defaults: dict[str, set[Any]] = {
        "collection_method": {"charge_automatically"},
        "pause_collection": {""},
        "days_until_due": set(),
        "add_invoice_items": set(),
        "default_tax_rates": {""},
        "billing_cycle_anchor": {"unchanged"},
        "backdate_start_date": set(),
        "trial_from_plan": {"false"},
        "currency": {"usd"},
    }
    for name, allowed in defaults.items():
        if name in p and p[name] not in allowed:
            raise StripeError(
                400,
                f"The local Stripe stand-in does not support `{name}` (see stripe_local/README.md).",
                code="parameter_unsupported",
                param=name,
            )
    refuse_automatic_tax(p)


def _subscription_prices(e: Engine, items: list[Obj]) -> list[tuple[Obj, int, Any]]:
    """(price, quantity, metadata) of each item: active recurring prices only, at least one."""
    prices = []
    for index, item in enumerate(items):
        price = e.get("price", require(item, "price"), param=f"items[{index}][price]")
        if not price["recurring"]:
            raise StripeError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
                param=f"items[{index}][price]",
            )
        if not price["active"]:
            raise StripeError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param=f"items[{index}][price]",
            )
        prices.append(
            (
                price,
                as_int(item.get("quantity", 1), param=f"items[{index}][quantity]"),
                item.get("metadata", {}),
            )
        )
    if not prices:
        raise ParamError("Missing required param: items.", param="items", code="parameter_missing")
    return prices


def _trial_lines(e: Engine, sub: Obj, period: tuple[int, int]) -> list[Obj]:
    """The first invoice of a trial: one zero line per item."""
    lines = []
    for item in sub["items"]["data"]:
        product = e.find("product", item["price"]["product"])
        name = product["name"] if product else item["price"]["product"]
        lines.append(
            e.line(
                invoice_id=None,
                amount=0,
                price=item["price"],
                quantity=item["quantity"],
                description=f"Trial period for {name}",
                period=period,
                subscription=sub["id"],
                subscription_item=item["id"],
            )
        )
    return lines


def _first_invoice(
    e: Engine, sub: Obj, *, trial: bool, payment_behavior: str, pm_id: str | None
) -> tuple[Obj, StripeError | None]:
    """The subscription's first invoice: a zero one for a trial, else the first period, charged
    unless ``default_incomplete``."""
    period = (e.now, sub["current_period_end"])
    if trial:
        return e.invoice_subscription(
            sub, billing_reason="subscription_create", period=period, lines=_trial_lines(e, sub, period)
        )
    invoice, error = e.invoice_subscription(
        sub,
        billing_reason="subscription_create",
        period=period,
        lines=e.cycle_lines(sub, period, None),
        pm_id=pm_id,
        attempt=payment_behavior != "default_incomplete",
    )
    if invoice["status"] == "open":
        # The first invoice of an incomplete subscription is not retried automatically.
        invoice["next_payment_attempt"] = None
    return invoice, error


def create_subscription(
    e: Engine,
    *,
    customer: Obj,
    items: list[Obj],
    metadata: Obj,
    trial_end: int | None,
    default_payment_method: str | None,
    payment_behavior: str,
    discounts: list[Obj] | None = None,
    description: str | None = None,
    cancel_at_period_end: bool = False,
    discount_factory: Callable[[str], list[Obj] | None] | None = None,
    trial_end_behavior: str = "create_invoice",
) -> tuple[Obj, StripeError | None]:
    """Create a subscription, its first invoice and the first payment (shared by API and checkout)."""
    sub_id = e.new_id("sub")
    prices = _subscription_prices(e, items)
    if trial_end is not None and trial_end <= e.now:
        raise ParamError(
            "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
        )
    sub: Obj = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor": trial_end or e.now,
        "billing_cycle_anchor_config": None,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": e.now,
        "currency": prices[0][0]["currency"],
        "current_period_end": 0,
        "current_period_start": e.now,
        "customer": customer["id"],
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discount": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": e.list_obj(
            [
                e.sub_item(subscription_id=sub_id, price=price, quantity=qty, metadata=meta)
                for price, qty, meta in prices
            ],
            f"/v1/subscription_items?subscription={sub_id}",
        ),
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "plan": None,
        "quantity": None,
        "schedule": None,
        "start_date": e.now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": trial_end_behavior}},
        "trial_start": e.now if trial_end else None,
    }
    if len(prices) == 1:
        sub["plan"] = e.plan_from_price(prices[0][0])
        sub["quantity"] = prices[0][1]
    sub["current_period_end"] = trial_end or e.period_end(sub, e.now)
    if discount_factory is not None:
        discounts = discount_factory(sub_id)
    if discounts:
        sub["discount"] = copy.deepcopy(discounts[0])
        sub["discounts"] = [d["id"] for d in discounts]
        for d in discounts:
            d["subscription"] = sub_id
    e.created(sub)
    invoice, error = _first_invoice(
        e, sub, trial=bool(trial_end), payment_behavior=payment_behavior, pm_id=default_payment_method
    )
    sub["latest_invoice"] = invoice["id"]
    if trial_end:
        sub["status"] = "trialing"
    elif invoice["status"] == "paid":
        sub["status"] = "active"
    if cancel_at_period_end:
        sub.update(
            {"cancel_at_period_end": True, "cancel_at": sub["current_period_end"], "canceled_at": e.now}
        )
    if payment_behavior == "error_if_incomplete" and sub["status"] == "incomplete":
        # Stripe does not keep the subscription when the first payment fails in this mode.
        sub["status"] = "incomplete_expired"
        assert error is not None  # noqa: S101 - incomplete means the payment failed
        raise error
    e.emit("customer.subscription.created", sub)
    return sub, error


@route("POST", r"/v1/subscriptions")
def subscriptions_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        SUB_COMMON + " customer items trial_period_days trial_from_plan expand currency backdate_start_date",
    )
    refuse_unsupported(p)
    customer = e.get("customer", require(p, "customer"), param="customer")
    items = as_list(require(p, "items"), param="items")
    trial_end = None
    if p.get("trial_end"):
        trial_end = None if p["trial_end"] == "now" else as_int(p["trial_end"], param="trial_end")
    elif p.get("trial_period_days"):
        trial_end = e.now + as_int(p["trial_period_days"], param="trial_period_days") * 86400
    pm = p.get("default_payment_method") or None
    if pm:
        pm_obj = e.get("payment_method", pm, param="default_payment_method")
        if pm_obj["customer"] != customer["id"]:
            raise StripeError(
                400,
                f"The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer.",
                code="resource_missing",
                param="default_payment_method",
            )
    behaviour = p.get("payment_behavior", "allow_incomplete")
    if behaviour not in (
        "allow_incomplete",
        "default_incomplete",
        "error_if_incomplete",
        "pending_if_incomplete",
    ):
        raise ParamError("Invalid payment_behavior", param="payment_behavior")
    trial_settings = as_dict(p.get("trial_settings", {}), param="trial_settings")
    end_behavior = as_dict(trial_settings.get("end_behavior", {}), param="trial_settings[end_behavior]").get(
        "missing_payment_method", "create_invoice"
    )
    sub, _error = create_subscription(
        e,
        customer=customer,
        items=[as_dict(i, param="items") for i in items],
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
        trial_end=trial_end,
        default_payment_method=pm,
        payment_behavior=behaviour,
        description=p.get("description") or None,
        cancel_at_period_end=as_bool(p.get("cancel_at_period_end", False), param="cancel_at_period_end"),
        discount_factory=lambda sub_id: subscription_discounts(e, p, customer["id"], sub_id),
        trial_end_behavior=end_behavior,
    )
    return sub


@route("GET", r"/v1/subscriptions")
def subscriptions_list(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        LIST + " customer price status collection_method current_period_end current_period_start test_clock",
    )
    items = e.all("subscription")
    status = p.get("status")
    if status in (None, ""):
        items = [s for s in items if s["status"] not in ("canceled", "incomplete_expired")]
    elif status != "all":
        items = [s for s in items if s["status"] == status]
    if p.get("customer"):
        items = [s for s in items if s["customer"] == p["customer"]]
    if p.get("price"):
        items = [s for s in items if any(i["price"]["id"] == p["price"] for i in s["items"]["data"])]
    return e.paginate(created_filter(items, p), p, "/v1/subscriptions")


@route("GET", r"/v1/subscriptions/search")
def subscriptions_search(e: Engine, p: Obj) -> Obj:
    return search(e, "subscription", p, "/v1/subscriptions/search")


@route("GET", r"/v1/subscriptions/{id}")
def subscriptions_retrieve(e: Engine, p: Obj, sub_id: str) -> Obj:
    return e.get("subscription", sub_id)


@route("POST", r"/v1/subscriptions/{id}")
def subscriptions_update(e: Engine, p: Obj, sub_id: str) -> Obj:
    """Stripe's order: the plain fields, the items (with their prorations), the trial; then
    whatever the change bills now (``subscription_update``'s steps)."""
    allow(p, SUB_COMMON + " items proration_date pause_collection cancellation_details")
    refuse_unsupported(p)
    sub = e.get("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            code=None,
            param=None,
        )
    changes = {**field_changes(e, p, sub), **cancellation_changes(e, p, sub)}
    discounts = subscription_discounts(e, p, sub["customer"], sub_id)
    if discounts is not None:
        changes["discounts"] = [d["id"] for d in discounts]
        changes["discount"] = copy.deepcopy(discounts[0]) if discounts else None
    billing = items_change(e, p, sub, changes)
    trial_change(e, p, sub, changes)
    pm_id = changes.get("default_payment_method")
    ending_trial = p.get("trial_end") == "now" and sub["status"] == "trialing"
    # Stripe's error_if_incomplete: a declined charge refuses the whole update (402), unchanged.
    strict = p.get("payment_behavior") == "error_if_incomplete"
    saved = json_roundtrip(e.snapshot()) if strict else None
    e.set_subscription(sub, changes)
    if ending_trial:
        trial_end_now(e, sub, saved)
    elif billing.reset_anchor:
        period_restart(e, sub, pm_id)
    elif billing.invoice_now:
        prorations_invoice_now(e, sub, pm_id, strict=strict)
    return sub


@route("DELETE", r"/v1/subscriptions/{id}")
def subscriptions_cancel(e: Engine, p: Obj, sub_id: str) -> Obj:
    allow(p, "invoice_now prorate cancellation_details")
    sub = e.get("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(404, f"No such subscription: '{sub_id}'", code="resource_missing", param="id")
    if p.get("cancellation_details"):
        details = as_dict(p["cancellation_details"], param="cancellation_details")
        sub["cancellation_details"] = {
            **sub["cancellation_details"],
            **{k: v or None for k, v in details.items() if k in ("comment", "feedback")},
        }
    if as_bool(p.get("prorate", False), param="prorate") and sub["status"] == "active":
        for item in sub["items"]["data"]:
            credit = e.proration_items(
                sub,
                item,
                {**item["price"], "unit_amount": 0},
                item["quantity"],
                proration_date=e.now,
                store=False,
            )[0]
            e.created(credit)
    e.cancel_subscription(sub)
    return sub


@route("POST", r"/v1/subscriptions/{id}/resume")
def subscriptions_resume(e: Engine, p: Obj, sub_id: str) -> Obj:
    allow(p, "billing_cycle_anchor proration_behavior proration_date")
    sub = e.get("subscription", sub_id)
    if sub["status"] != "paused":
        raise StripeError(
            400,
            "Only a paused subscription can be resumed. To undo a scheduled cancellation, update cancel_at_period_end to false.",
            code=None,
        )
    e.set_subscription(sub, {"status": "active", "pause_collection": None})
    return sub


@route("GET", r"/v1/subscription_items")
def subscription_items_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " subscription")
    sub = e.get("subscription", require(p, "subscription"), param="subscription")
    return e.paginate(sub["items"]["data"], p, f"/v1/subscription_items?subscription={sub['id']}")


@route("GET", r"/v1/subscription_items/{id}")
def subscription_items_retrieve(e: Engine, p: Obj, item_id: str) -> Obj:
    for sub in e.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return item
    raise not_found("subscription item", item_id)
