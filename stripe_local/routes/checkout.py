"""Checkout sessions and their completion."""

from __future__ import annotations

import copy
from typing import Any

from ..engine import CHECKOUT_EXPIRES_SECONDS, Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import LIST, allow, json_roundtrip, list_objects, refuse_automatic_tax, route
from .customers import customers_create
from .subscriptions import create_subscription


def _session_params_check(p: Obj) -> tuple[str, str]:
    """The session's mode and success URL; refuses what the stand-in does not serve."""
    mode = require(p, "mode")
    if p.get("ui_mode", "hosted") != "hosted":
        raise StripeError(
            400,
            "The local Stripe stand-in only serves hosted Checkout pages.",
            code="parameter_unsupported",
            param="ui_mode",
        )
    refuse_automatic_tax(p)
    if mode not in ("subscription", "payment"):
        raise ParamError("Invalid mode: the local stand-in supports subscription and payment", param="mode")
    success_url = str(require(p, "success_url"))
    if p.get("allow_promotion_codes") and p.get("discounts"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="allow_promotion_codes",
        )
    return mode, success_url


def _session_line_items(e: Engine, entries: list[Any], mode: str) -> tuple[list[Obj], int, str | None]:
    """The session's line items (active prices fitting the mode), their subtotal and currency."""
    line_items = []
    subtotal = 0
    currency = None
    for index, raw in enumerate(entries):
        entry = as_dict(raw, param=f"line_items[{index}]")
        price = e.get("price", require(entry, "price"), param=f"line_items[{index}][price]")
        if mode == "payment" and price["recurring"]:
            raise StripeError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
                param=f"line_items[{index}][price]",
            )
        if not price["active"]:
            raise StripeError(
                400, f"The price `{price['id']}` is not active.", param=f"line_items[{index}][price]"
            )
        quantity = as_int(entry.get("quantity", 1), param=f"line_items[{index}][quantity]")
        product = e.find("product", price["product"])
        amount = int(price["unit_amount"] or 0) * quantity
        subtotal += amount
        currency = price["currency"]
        line_items.append(
            {
                "id": e.new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product["name"] if product else price["product"],
                "price": copy.deepcopy(price),
                "quantity": quantity,
            }
        )
    if mode == "subscription" and not any(li["price"]["recurring"] for li in line_items):
        raise StripeError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    return line_items, subtotal, currency


def _session_discounts(e: Engine, p: Obj) -> list[Obj]:
    """``discounts``: each coupon or promotion code checked to exist."""
    discounts = []
    for index, raw in enumerate(as_list(p.get("discounts", []), param="discounts")):
        entry = as_dict(raw, param=f"discounts[{index}]")
        if entry.get("promotion_code"):
            e.get(
                "promotion_code",
                entry["promotion_code"],
                param=f"discounts[{index}][promotion_code]",
                label="promotion code",
            )
        elif entry.get("coupon"):
            e.get("coupon", entry["coupon"], param=f"discounts[{index}][coupon]")
        discounts.append(
            {"coupon": entry.get("coupon") or None, "promotion_code": entry.get("promotion_code") or None}
        )
    return discounts


def _discount_amount(e: Engine, discounts: list[Obj], *, subtotal: int, currency: str | None) -> int:
    """What the discounts take off the subtotal, applied in turn."""
    amount_discount = 0
    for entry in discounts:
        coupon = (
            e.get("coupon", entry["coupon"])
            if entry["coupon"]
            else e.get("promotion_code", entry["promotion_code"])["coupon"]
        )
        remaining = subtotal - amount_discount
        if coupon["percent_off"] is not None:
            off = int(round(remaining * float(coupon["percent_off"]) / 100))
        elif (coupon.get("currency") or currency) == currency:
            off = int(coupon["amount_off"] or 0)
        else:
            off = 0
        amount_discount += min(remaining, off)
    return amount_discount


@route("POST", r"/v1/checkout/sessions")
def checkout_sessions_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "mode line_items customer customer_email client_reference_id success_url cancel_url allow_promotion_codes discounts metadata subscription_data payment_method_types billing_address_collection customer_update locale expires_at ui_mode consent_collection tax_id_collection automatic_tax payment_method_collection customer_creation saved_payment_method_options payment_intent_data phone_number_collection submit_type custom_text invoice_creation return_url",
    )
    mode, success_url = _session_params_check(p)
    customer = e.get("customer", p["customer"], param="customer") if p.get("customer") else None
    entries = as_list(require(p, "line_items"), param="line_items")
    session_id = e.new_id("cs_test")
    line_items, subtotal, currency = _session_line_items(e, entries, mode)
    sub_data = as_dict(p.get("subscription_data", {}), param="subscription_data")
    discounts = _session_discounts(e, p)
    # Like Stripe, a session created with discounts shows the discounted total from the start (the
    # hosted page's "Total due today"), not only once it is paid.
    amount_discount = _discount_amount(e, discounts, subtotal=subtotal, currency=currency)
    expires_at = (
        as_int(p["expires_at"], param="expires_at")
        if p.get("expires_at")
        else e.now + CHECKOUT_EXPIRES_SECONDS
    )
    session: Obj = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": as_bool(p["allow_promotion_codes"], param="allow_promotion_codes")
        if "allow_promotion_codes" in p
        else None,
        "amount_subtotal": subtotal,
        "amount_total": subtotal - amount_discount,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": p.get("billing_address_collection") or None,
        "cancel_url": p.get("cancel_url") or None,
        "client_reference_id": p.get("client_reference_id") or None,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": e.now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer["id"] if customer else None,
        "customer_creation": None if customer else ("always" if mode == "subscription" else "if_required"),
        "customer_details": {
            "address": None,
            "email": customer["email"] if customer else p.get("customer_email") or None,
            "name": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if customer or p.get("customer_email")
        else None,
        "customer_email": p.get("customer_email") or None,
        "discounts": discounts,
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": p.get("locale") or None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": p.get("payment_method_collection") or "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": as_list(
            p.get("payment_method_types", ["card"]), param="payment_method_types"
        ),
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.get("submit_type") or None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": amount_discount, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": p.get("ui_mode") or "hosted",
        "url": f"{e.base_url}/c/pay/{session_id}",
    }
    e.created(session)
    meta = e.m(session_id)
    meta["line_items"] = line_items
    meta["subscription_data"] = sub_data
    return session


@route("GET", r"/v1/checkout/sessions")
def checkout_sessions_list(e: Engine, p: Obj) -> Obj:
    return list_objects(
        e,
        p,
        "checkout.session",
        "/v1/checkout/sessions",
        equal="customer subscription payment_intent status",
        extra="customer_details",
    )


@route("GET", r"/v1/checkout/sessions/{id}")
def checkout_sessions_retrieve(e: Engine, p: Obj, session_id: str) -> Obj:
    return e.get("checkout.session", session_id, label="checkout.session")


@route("GET", r"/v1/checkout/sessions/{id}/line_items")
def checkout_sessions_line_items(e: Engine, p: Obj, session_id: str) -> Obj:
    allow(p, LIST)
    e.get("checkout.session", session_id, label="checkout.session")
    items = e.m(session_id).get("line_items", [])
    return e.list_obj(
        copy.deepcopy(items[: as_int(p.get("limit", 10), param="limit")]),
        f"/v1/checkout/sessions/{session_id}/line_items",
        len(items) > as_int(p.get("limit", 10), param="limit"),
    )


@route("POST", r"/v1/checkout/sessions/{id}/expire")
def checkout_sessions_expire(e: Engine, p: Obj, session_id: str) -> Obj:
    session = e.get("checkout.session", session_id, label="checkout.session")
    if session["status"] != "open":
        raise StripeError(
            400,
            f"Only Checkout Sessions with a status of `open` can be expired. This Checkout Session has a status of `{session['status']}`.",
            param="session",
        )
    return e.update(session, {"status": "expired", "url": None}, "checkout.session.expired")


def card_optional(e: Engine, session: Obj) -> bool:
    """A trial with ``payment_method_collection=if_required`` can start without a card."""
    sub_data = e.m(session["id"]).get("subscription_data", {})
    has_trial = bool(sub_data.get("trial_period_days") or sub_data.get("trial_end"))
    return (
        session["mode"] == "subscription"
        and has_trial
        and session["payment_method_collection"] == "if_required"
    )


def complete_checkout(
    e: Engine,
    session: Obj,
    *,
    card: Obj | None,
    email: str | None,
    name: str | None,
    promotion_code: str | None,
) -> Obj:
    """Pay a checkout session like the hosted page does. Raises StripeError (card or code errors)
    without changing anything when payment fails."""
    if session["status"] != "open":
        raise StripeError(
            400,
            "This Checkout Session is no longer open.",
            code=None,
        )
    promo_id = None
    if promotion_code:
        if not session["allow_promotion_codes"]:
            raise StripeError(
                400, "Promotion codes are not enabled for this session.", param="promotion_code"
            )
        found = [
            pc
            for pc in e.all("promotion_code")
            if pc["code"].lower() == promotion_code.lower() and pc["active"]
        ]
        if not found:
            raise StripeError(
                400,
                "This code is invalid.",
                code=None,
                param="promotion_code",
            )
        promo_id = found[0]["id"]
    saved = e.snapshot()
    saved = json_roundtrip(saved)
    try:
        return _complete_checkout(e, session, card=card, email=email, name=name, promo_id=promo_id)
    except StripeError:
        # Nothing happened: restore the state as it was before the attempt.
        e.rollback(saved)
        raise


def _checkout_payment_method(
    e: Engine, session: Obj, customer: Obj, *, card: Obj | None, email: str | None, name: str | None
) -> Obj | None:
    """The card typed on the hosted page, attached to the customer (None where none is needed);
    refuses a missing card or one that declines being saved."""
    pm: Obj | None = None
    if card is None and not card_optional(e, session):
        raise StripeError(
            402,
            "Your card number is incomplete.",
            type="card_error",
            code="incomplete_number",
            param="number",
        )
    if card is not None:
        pm = e.make_payment_method(card, billing_details={"email": email, "name": name})
        behaviour = e.card_behaviour(pm["id"])
        if behaviour in ("decline_attach",):
            raise e.card_error("card_declined", "generic_decline")
        if behaviour == "auth_required":
            raise e.card_error("authentication_required", "authentication_required")
        e.attach(pm, customer)
    return pm


def _checkout_trial_end(e: Engine, sub_data: Obj) -> int | None:
    """When the trial asked for in ``subscription_data`` ends, or None."""
    trial_end = None
    if sub_data.get("trial_end"):
        trial_end = as_int(sub_data["trial_end"], param="subscription_data[trial_end]")
    elif sub_data.get("trial_period_days"):
        trial_end = (
            e.now
            + as_int(sub_data["trial_period_days"], param="subscription_data[trial_period_days]") * 86400
        )
    return trial_end


def _checkout_subscribe(
    e: Engine,
    session: Obj,
    customer: Obj,
    pm: Obj | None,
    *,
    line_items: list[Obj],
    sub_data: Obj,
    discount_entries: list[Obj],
) -> Obj:
    """A subscription-mode session: the subscription and its first invoice; the session's changes."""
    if pm is not None:
        e.update(
            customer,
            {"invoice_settings": {**customer["invoice_settings"], "default_payment_method": pm["id"]}},
        )
    trial_settings = as_dict(sub_data.get("trial_settings", {}), param="subscription_data[trial_settings]")
    end_behavior = as_dict(
        trial_settings.get("end_behavior", {}), param="subscription_data[trial_settings][end_behavior]"
    )
    trial_end = _checkout_trial_end(e, sub_data)
    sub, _error = create_subscription(
        e,
        customer=customer,
        items=[{"price": li["price"]["id"], "quantity": li["quantity"]} for li in line_items],
        metadata=as_dict(sub_data.get("metadata", {}), param="subscription_data[metadata]"),
        trial_end=trial_end,
        default_payment_method=pm["id"] if pm else None,
        payment_behavior="error_if_incomplete",
        trial_end_behavior=end_behavior.get("missing_payment_method", "create_invoice"),
        description=sub_data.get("description") or None,
        discount_factory=lambda sub_id: (
            e.discounts_from_params(discount_entries, customer=customer["id"], subscription=sub_id)
            if discount_entries
            else None
        ),
    )
    invoice = e.get("invoice", sub["latest_invoice"])
    discount_total = sum(d["amount"] for d in invoice["total_discount_amounts"])
    changes: Obj = {
        "subscription": sub["id"],
        "invoice": invoice["id"],
        "payment_status": "paid" if invoice["amount_paid"] > 0 else "no_payment_required",
        "amount_total": invoice["total"] if not trial_end else 0,
        "amount_subtotal": invoice["subtotal"] if not trial_end else session["amount_subtotal"],
        "total_details": {"amount_discount": discount_total, "amount_shipping": 0, "amount_tax": 0},
        "discounts": [{"coupon": None, "discount": d, "promotion_code": None} for d in sub["discounts"]]
        if sub["discounts"]
        else [],
    }
    if trial_end:
        changes["amount_subtotal"] = 0
    for li in line_items:
        li["amount_discount"] = 0
    return changes


def _checkout_pay(e: Engine, session: Obj, customer: Obj, pm: Obj | None) -> Obj:
    """A payment-mode session: one payment intent, confirmed; the session's changes."""
    amount = session["amount_total"]
    pi = e.new_payment_intent(
        amount=amount,
        currency=session["currency"],
        customer=customer["id"],
        description=None,
        metadata=session["metadata"],
    )
    error = e.confirm_payment_intent(pi, pm["id"] if pm else None)
    if error is not None:
        raise error
    return {"payment_intent": pi["id"], "payment_status": "paid"}


def _complete_checkout(
    e: Engine, session: Obj, *, card: Obj | None, email: str | None, name: str | None, promo_id: str | None
) -> Obj:
    session = e.get("checkout.session", session["id"])
    customer = e.find("customer", session["customer"]) if session["customer"] else None
    # A known customer or a customer_email is fixed on Stripe's page; otherwise the form's email.
    email = (customer["email"] if customer else None) or session["customer_email"] or email
    if customer is None:
        customer = customers_create(e, {"email": email or "", "name": name or ""})
    pm = _checkout_payment_method(e, session, customer, card=card, email=email, name=name)
    discount_entries = [d for d in session["discounts"] or []]
    if promo_id:
        discount_entries = [{"coupon": None, "promotion_code": promo_id}]
    meta = e.m(session["id"])
    line_items = meta.get("line_items", [])
    sub_data = meta.get("subscription_data", {})
    changes: Obj = {
        "status": "complete",
        "customer": customer["id"],
        "customer_details": {
            "address": None,
            "email": email,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    }
    if session["mode"] == "subscription":
        changes.update(
            _checkout_subscribe(
                e,
                session,
                customer,
                pm,
                line_items=line_items,
                sub_data=sub_data,
                discount_entries=discount_entries,
            )
        )
    else:
        changes.update(_checkout_pay(e, session, customer, pm))
    changes["discounts"] = [
        {"coupon": d.get("coupon"), "promotion_code": d.get("promotion_code")} for d in discount_entries
    ]
    previous = {k: copy.deepcopy(session.get(k)) for k in changes}
    session.update(changes)
    e.emit("checkout.session.completed", session)
    del previous
    return session
