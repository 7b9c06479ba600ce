"""Payment methods and setup intents."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import LIST, allow, list_objects, metadata_update, route


@route("POST", r"/v1/payment_methods")
def payment_methods_create(e: Engine, p: Obj) -> Obj:
    allow(p, "type card billing_details metadata allow_redisplay customer payment_method")
    if p.get("type", "card") != "card":
        raise ParamError("Only type=card is supported by the local stand-in.", param="type")
    require(p, "card")
    return e.make_payment_method(
        as_dict(p["card"], param="card"),
        billing_details=as_dict(p.get("billing_details", {}), param="billing_details"),
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
    )


@route("GET", r"/v1/payment_methods")
def payment_methods_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer type")
    items = [
        pm
        for pm in e.all("payment_method")
        if pm["customer"] and (not p.get("customer") or pm["customer"] == p["customer"])
    ]
    return e.paginate(items, p, "/v1/payment_methods")


@route("GET", r"/v1/payment_methods/{id}")
def payment_methods_retrieve(e: Engine, p: Obj, pm_id: str) -> Obj:
    return e.get("payment_method", pm_id)


@route("POST", r"/v1/payment_methods/{id}")
def payment_methods_update(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "billing_details metadata card allow_redisplay")
    pm = e.get("payment_method", pm_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(pm["metadata"], p["metadata"])
    if "billing_details" in p:
        details = dict(pm["billing_details"])
        for key, value in as_dict(p["billing_details"], param="billing_details").items():
            if key in details and key != "address":
                details[key] = value or None
        changes["billing_details"] = details
    if "card" in p:
        card = dict(pm["card"])
        for key in ("exp_month", "exp_year"):
            if key in p["card"]:
                card[key] = as_int(p["card"][key], param=f"card[{key}]")
        changes["card"] = card
    return e.update(pm, changes)


@route("POST", r"/v1/payment_methods/{id}/attach")
def payment_methods_attach(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "customer")
    customer = e.get("customer", require(p, "customer"), param="customer")
    pm = e.payment_method_for(pm_id)
    return e.attach(pm, customer)


@route("POST", r"/v1/payment_methods/{id}/detach")
def payment_methods_detach(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "")
    pm = e.get("payment_method", pm_id)
    if not pm["customer"]:
        raise StripeError(
            400,
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            code="payment_method_unexpected_state",
        )
    customer = e.find("customer", pm["customer"])
    previous = {"customer": pm["customer"]}
    pm["customer"] = None
    e.emit("payment_method.detached", pm, previous)
    if customer and customer["invoice_settings"]["default_payment_method"] == pm_id:
        e.update(
            customer, {"invoice_settings": {**customer["invoice_settings"], "default_payment_method": None}}
        )
    return pm


@route("POST", r"/v1/setup_intents")
def setup_intents_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "customer payment_method payment_method_types usage confirm metadata description return_url automatic_payment_methods",
    )
    customer = e.get("customer", p["customer"], param="customer")["id"] if p.get("customer") else None
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    seti_id = e.new_id("seti")
    intent: Obj = {
        "id": seti_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{seti_id}_secret_{e.secret('seti', seti_id)[:24]}",
        "created": e.now,
        "customer": customer,
        "description": p.get("description") or None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": pm_id,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": as_list(
            p.get("payment_method_types", ["card"]), param="payment_method_types"
        ),
        "single_use_mandate": None,
        "status": "requires_confirmation" if pm_id else "requires_payment_method",
        "usage": p.get("usage", "off_session"),
    }
    e.created(intent)
    e.emit("setup_intent.created", intent)
    if as_bool(p.get("confirm", False), param="confirm"):
        confirm_setup_intent(e, intent, pm_id)
    return intent


def confirm_setup_intent(e: Engine, intent: Obj, pm_id: str | None) -> None:
    """Attach the card to the intent's customer; cards that decline at attach fail the intent."""
    pm_id = pm_id or intent["payment_method"]
    if not pm_id:
        raise StripeError(
            400,
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
            param="payment_method",
        )
    pm = e.get("payment_method", pm_id, param="payment_method")
    behaviour = e.card_behaviour(pm_id)
    if behaviour in ("decline_attach", "auth_required"):
        code = "card_declined" if behaviour == "decline_attach" else "authentication_required"
        error = e.card_error(code, "generic_decline" if code == "card_declined" else code)
        e.update(
            intent,
            {
                "status": "requires_payment_method",
                "payment_method": None,
                "last_setup_error": {
                    "code": code,
                    "decline_code": error.extra.get("decline_code"),
                    "doc_url": None,
                    "message": error.message,
                    "payment_method": copy.deepcopy(pm),
                    "type": "card_error",
                },
            },
            "setup_intent.setup_failed",
        )
        error.extra["setup_intent"] = copy.deepcopy(intent)
        raise error
    if intent["customer"]:
        e.attach(pm, e.get("customer", intent["customer"]))
    e.update(
        intent,
        {"status": "succeeded", "payment_method": pm_id, "last_setup_error": None},
        "setup_intent.succeeded",
    )


@route("GET", r"/v1/setup_intents")
def setup_intents_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "setup_intent", "/v1/setup_intents", equal="customer payment_method")


@route("GET", r"/v1/setup_intents/{id}")
def setup_intents_retrieve(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "client_secret")
    return e.get("setup_intent", seti_id, label="setupintent")


@route("POST", r"/v1/setup_intents/{id}/confirm")
def setup_intents_confirm(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "payment_method return_url mandate_data")
    intent = e.get("setup_intent", seti_id, label="setupintent")
    if intent["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"This SetupIntent's status is {intent['status']}, so it cannot be confirmed.",
            code="setup_intent_unexpected_state",
        )
    confirm_setup_intent(
        e, intent, e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    )
    return intent


@route("POST", r"/v1/setup_intents/{id}/cancel")
def setup_intents_cancel(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "cancellation_reason")
    intent = e.get("setup_intent", seti_id, label="setupintent")
    if intent["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    return e.update(
        intent,
        {
            "status": "canceled",
            "cancellation_reason": p.get("cancellation_reason") or "requested_by_customer",
        },
        "setup_intent.canceled",
    )
