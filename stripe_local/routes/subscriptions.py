"""Subscriptions and subscription items."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..engine import Engine, Obj, StripeError, not_found
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import LIST, allow, created_filter, json_roundtrip, metadata_update, route, search

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
    if as_dict(p.get("automatic_tax", {}), param="automatic_tax").get("enabled") in ("true", True):
        raise StripeError(
            400,
            "The local Stripe stand-in does not compute taxes.",
            code="parameter_unsupported",
            param="automatic_tax[enabled]",
        )


def subscription_discounts(e: Engine, p: Obj, customer_id: str, sub_id: str) -> list[Obj] | None:
    if p.get("coupon") or p.get("promotion_code"):
        return [
            e.make_discount(
                coupon_id=p.get("coupon") or None,
                promotion_code_id=p.get("promotion_code") or None,
                customer=customer_id,
                subscription=sub_id,
                param="coupon" if p.get("coupon") else "promotion_code",
            )
        ]
    if "discounts" in p:
        return e.discounts_from_params(
            as_list(p["discounts"], param="discounts"), customer=customer_id, subscription=sub_id
        )
    return None


def create_subscription(  # noqa: C901, PLR0912  one Stripe operation's many optional parameters, read in Stripe's order
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
    period = (e.now, sub["current_period_end"])
    if trial_end:
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
                    subscription=sub_id,
                    subscription_item=item["id"],
                )
            )
        invoice, error = e.invoice_subscription(
            sub, billing_reason="subscription_create", period=period, lines=lines
        )
    else:
        lines = e.cycle_lines(sub, period, None)
        attempt = payment_behavior != "default_incomplete"
        invoice, error = e.invoice_subscription(
            sub,
            billing_reason="subscription_create",
            period=period,
            lines=lines,
            pm_id=default_payment_method,
            attempt=attempt,
        )
        if invoice["status"] == "open":
            # The first invoice of an incomplete subscription is not retried automatically.
            invoice["next_payment_attempt"] = None
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


def changed_items(
    e: Engine, sub: Obj, entries: list[Any], param: str
) -> tuple[list[Obj], list[tuple[Obj, Obj, int]]]:
    """New item list for ``sub`` and the (old item, new price, quantity) pairs that changed."""
    items = copy.deepcopy(sub["items"]["data"])
    changes: list[tuple[Obj, Obj, int]] = []
    for index, raw in enumerate(entries):
        entry = as_dict(raw, param=f"{param}[{index}]")
        if entry.get("id"):
            matches = [i for i in items if i["id"] == entry["id"]]
            if not matches:
                raise not_found("subscription item", entry["id"], f"{param}[{index}][id]")
            item = matches[0]
            if as_bool(entry.get("deleted", False), param=f"{param}[{index}][deleted]"):
                items.remove(item)
                continue
            new_price = (
                e.get("price", entry["price"], param=f"{param}[{index}][price]")
                if entry.get("price")
                else item["price"]
            )
            quantity = as_int(entry.get("quantity", item["quantity"]), param=f"{param}[{index}][quantity]")
            if new_price["id"] != item["price"]["id"] or quantity != item["quantity"]:
                if not new_price["active"]:
                    raise StripeError(
                        400,
                        "The price specified is inactive. This field only accepts active prices.",
                        param=f"{param}[{index}][price]",
                    )
                changes.append((copy.deepcopy(item), new_price, quantity))
                item["price"] = copy.deepcopy(new_price)
                item["plan"] = e.plan_from_price(new_price)
                item["quantity"] = quantity
        else:
            price = e.get("price", require(entry, "price"), param=f"{param}[{index}][price]")
            item = e.sub_item(
                subscription_id=sub["id"],
                price=price,
                quantity=as_int(entry.get("quantity", 1), param=f"{param}[{index}][quantity]"),
            )
            items.append(item)
            zero = copy.deepcopy(item)
            zero["price"] = {**copy.deepcopy(price), "unit_amount": 0}
            changes.append((zero, price, item["quantity"]))
    if not items:
        raise StripeError(400, "A subscription must have at least one active plan.", param=param)
    return items, changes


@route("POST", r"/v1/subscriptions/{id}")
def subscriptions_update(e: Engine, p: Obj, sub_id: str) -> Obj:  # noqa: C901, PLR0912, PLR0915  one Stripe operation's many optional parameters, read in Stripe's order
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
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(sub["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if "default_payment_method" in p:
        if p["default_payment_method"]:
            pm = e.get("payment_method", p["default_payment_method"], param="default_payment_method")
            if pm["customer"] != sub["customer"]:
                raise StripeError(
                    400,
                    f"The customer does not have a payment method with the ID {pm['id']}. The payment method must be attached to the customer.",
                    code="resource_missing",
                    param="default_payment_method",
                )
        changes["default_payment_method"] = p["default_payment_method"] or None
    if "cancel_at_period_end" in p:
        flag = as_bool(p["cancel_at_period_end"], param="cancel_at_period_end")
        changes["cancel_at_period_end"] = flag
        changes["cancel_at"] = sub["current_period_end"] if flag else None
        changes["canceled_at"] = e.now if flag else None
        changes["cancellation_details"] = {
            **sub["cancellation_details"],
            "reason": "cancellation_requested" if flag else None,
        }
    if "cancel_at" in p:
        when = None if p["cancel_at"] == "" else as_int(p["cancel_at"], param="cancel_at")
        changes["cancel_at"] = when
        changes["cancel_at_period_end"] = when is not None and when == sub["current_period_end"]
        changes["canceled_at"] = e.now if when else None
    if "cancellation_details" in p:
        details = as_dict(p["cancellation_details"], param="cancellation_details")
        changes["cancellation_details"] = {
            **(changes.get("cancellation_details") or sub["cancellation_details"]),
            **{k: v or None for k, v in details.items() if k in ("comment", "feedback")},
        }
    discounts = subscription_discounts(e, p, sub["customer"], sub_id)
    if discounts is not None:
        changes["discounts"] = [d["id"] for d in discounts]
        changes["discount"] = copy.deepcopy(discounts[0]) if discounts else None
    proration = p.get("proration_behavior", "create_prorations")
    if proration not in ("create_prorations", "none", "always_invoice"):
        raise ParamError(
            "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice",
            param="proration_behavior",
        )
    proration_date = as_int(p.get("proration_date", e.now), param="proration_date")
    invoice_now = False
    reset_anchor = False
    if "items" in p:
        items, item_changes = changed_items(e, sub, as_list(p["items"], param="items"), "items")
        old_interval = (
            sub["items"]["data"][0]["price"]["recurring"]["interval"],
            sub["items"]["data"][0]["price"]["recurring"]["interval_count"],
        )
        new_interval = (
            items[0]["price"]["recurring"]["interval"],
            items[0]["price"]["recurring"]["interval_count"],
        )
        reset_anchor = old_interval != new_interval and sub["status"] != "trialing"
        if item_changes and proration != "none" and sub["status"] in ("active", "past_due"):
            for old_item, new_price, quantity in item_changes:
                e.proration_items(
                    sub,
                    old_item,
                    new_price,
                    quantity,
                    proration_date=proration_date if not reset_anchor else e.now,
                    store=True,
                )
            invoice_now = proration == "always_invoice" or reset_anchor
        changes["items"] = {**sub["items"], "data": items}
        if len(items) == 1:
            changes["plan"] = copy.deepcopy(items[0]["plan"])
            changes["quantity"] = items[0]["quantity"]
    if "trial_end" in p:
        if p["trial_end"] == "now":
            if sub["status"] == "trialing":
                changes.update({"trial_end": e.now, "current_period_end": e.now})
        else:
            trial_end = as_int(p["trial_end"], param="trial_end")
            if trial_end <= e.now:
                raise ParamError(
                    "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
                )
            changes.update(
                {
                    "trial_end": trial_end,
                    "current_period_end": trial_end,
                    "status": "trialing",
                    "billing_cycle_anchor": trial_end,
                }
            )
            e.m(sub_id).pop("trial_will_end_sent", None)
    pm_id = changes.get("default_payment_method")
    ending_trial = p.get("trial_end") == "now" and sub["status"] == "trialing"
    # Stripe's error_if_incomplete: a declined charge refuses the whole update (402), unchanged.
    saved = json_roundtrip(e.snapshot()) if p.get("payment_behavior") == "error_if_incomplete" else None
    e.set_subscription(sub, changes)
    if ending_trial:
        error = e.renew(sub)
        if error is not None and saved is not None:
            e.counters, e.objects, e.meta, e.events, e.deliveries = (
                saved["counters"],
                saved["objects"],
                saved["meta"],
                saved["events"],
                saved["deliveries"],
            )
            raise error
    elif reset_anchor:
        period = (e.now, 0)
        sub["billing_cycle_anchor"] = e.now
        period = (e.now, e.period_end(sub, e.now))
        invoice, error = e.invoice_subscription(
            sub, billing_reason="subscription_update", period=period, pm_id=pm_id
        )
        e.set_subscription(
            sub,
            {
                "current_period_start": period[0],
                "current_period_end": period[1],
                "latest_invoice": invoice["id"],
                "status": "active" if invoice["status"] == "paid" else "past_due",
            },
        )
    elif invoice_now:
        customer = e.get("customer", sub["customer"])
        pending = e.pending_items(customer["id"], sub_id)
        lines = e.item_lines(pending, None)
        invoice = e.build_invoice(
            customer=customer,
            subscription=sub,
            lines=lines,
            billing_reason="subscription_update",
            period=(e.now, e.now),
            discounts=[],
        )
        for ii in pending:
            ii["invoice"] = invoice["id"]
        e.finalize_invoice(invoice)
        error = e.attempt_invoice(invoice, pm_id=pm_id) if invoice["status"] == "open" else None
        if error is not None and p.get("payment_behavior") == "error_if_incomplete":
            raise error
        e.set_subscription(
            sub, {"latest_invoice": invoice["id"], "status": sub["status"] if error is None else "past_due"}
        )
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
