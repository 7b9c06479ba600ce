"""The steps of a subscription update (``POST /v1/subscriptions/{id}``), each one family of its
parameters, read in Stripe's order, and what the update bills now."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..engine import Engine, Obj, StripeError, not_found
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import metadata_update

PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")


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


def _payment_method(e: Engine, p: Obj, sub: Obj) -> str | None:
    """The new default payment method (checked to be the customer's), or None to clear it."""
    if p["default_payment_method"]:
        pm = e.get("payment_method", p["default_payment_method"], param="default_payment_method")
        if pm["customer"] != sub["customer"]:
            raise StripeError(
                400,
                f"The customer does not have a payment method with the ID {pm['id']}. The payment method must be attached to the customer.",
                code="resource_missing",
                param="default_payment_method",
            )
    return p["default_payment_method"] or None


def field_changes(e: Engine, p: Obj, sub: Obj) -> Obj:
    """Metadata, description and the default payment method."""
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(sub["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if "default_payment_method" in p:
        changes["default_payment_method"] = _payment_method(e, p, sub)
    return changes


def cancellation_changes(e: Engine, p: Obj, sub: Obj) -> Obj:
    """``cancel_at_period_end``, ``cancel_at`` and ``cancellation_details``."""
    changes: Obj = {}
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
    return changes


@dataclass(frozen=True)
class ItemsBilling:
    """What an item change bills: the prorations now, or a new period from now (a new interval)."""

    invoice_now: bool = False
    reset_anchor: bool = False


def _interval(item: Obj) -> tuple[Any, Any]:
    recurring = item["price"]["recurring"]
    return recurring["interval"], recurring["interval_count"]


def items_change(e: Engine, p: Obj, sub: Obj, changes: Obj) -> ItemsBilling:
    """``items`` (with ``proration_behavior`` and ``proration_date``): the new items go into
    ``changes``; the prorations of a paying subscription are stored as pending items."""
    proration = p.get("proration_behavior", "create_prorations")
    if proration not in PRORATION_BEHAVIORS:
        raise ParamError(
            "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice",
            param="proration_behavior",
        )
    proration_date = as_int(p.get("proration_date", e.now), param="proration_date")
    if "items" not in p:
        return ItemsBilling()
    items, item_changes = changed_items(e, sub, as_list(p["items"], param="items"), "items")
    reset_anchor = _interval(sub["items"]["data"][0]) != _interval(items[0]) and sub["status"] != "trialing"
    invoice_now = False
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
    return ItemsBilling(invoice_now=invoice_now, reset_anchor=reset_anchor)


def trial_change(e: Engine, p: Obj, sub: Obj, changes: Obj) -> None:
    """``trial_end``: "now" ends a running trial; a future time (re)starts one until then."""
    if "trial_end" not in p:
        return
    if p["trial_end"] == "now":
        if sub["status"] == "trialing":
            changes.update({"trial_end": e.now, "current_period_end": e.now})
        return
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
    e.m(sub["id"]).pop("trial_will_end_sent", None)


# --- What the update bills now ---------------------------------------------------------------------


def trial_end_now(e: Engine, sub: Obj, saved: Obj | None) -> None:
    """``trial_end=now``: the first paid period starts and is charged. With ``saved`` (Stripe's
    error_if_incomplete) a declined charge puts everything back as it was and raises."""
    error = e.renew(sub)
    if error is not None and saved is not None:
        e.rollback(saved)
        raise error


def period_restart(e: Engine, sub: Obj, pm_id: str | None) -> None:
    """A new billing interval: a new period starts now and is invoiced (with the prorations)."""
    sub["billing_cycle_anchor"] = e.now
    period = (e.now, e.period_end(sub, e.now))
    invoice, _error = e.invoice_subscription(
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


def prorations_invoice_now(e: Engine, sub: Obj, pm_id: str | None, *, strict: bool) -> None:
    """``always_invoice``: the pending prorations are invoiced and charged now; ``strict``
    (error_if_incomplete) raises a declined charge instead of leaving the subscription past due."""
    customer = e.get("customer", sub["customer"])
    pending = e.pending_items(customer["id"], sub["id"])
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
    if error is not None and strict:
        raise error
    e.set_subscription(
        sub, {"latest_invoice": invoice["id"], "status": sub["status"] if error is None else "past_due"}
    )
