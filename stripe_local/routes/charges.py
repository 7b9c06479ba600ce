"""Payment intents, charges and refunds."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict, as_int, require
from ._common import allow, list_objects, metadata_update, route, search


@route("POST", r"/v1/payment_intents")
def payment_intents_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "amount currency customer description metadata payment_method payment_method_types confirm off_session setup_future_usage receipt_email automatic_payment_methods return_url statement_descriptor capture_method",
    )
    amount = as_int(require(p, "amount"), param="amount")
    if amount < 50:
        raise StripeError(400, "Amount must be at least $0.50 usd", code="amount_too_small", param="amount")
    currency = str(require(p, "currency")).lower()
    customer = e.get("customer", p["customer"], param="customer")["id"] if p.get("customer") else None
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    pi = e.new_payment_intent(
        amount=amount,
        currency=currency,
        customer=customer,
        description=p.get("description") or None,
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
        payment_method=pm_id,
        setup_future_usage=p.get("setup_future_usage") or None,
    )
    if as_bool(p.get("confirm", False), param="confirm"):
        error = e.confirm_payment_intent(pi, pm_id)
        if error is not None:
            raise error
    return pi


@route("GET", r"/v1/payment_intents")
def payment_intents_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "payment_intent", "/v1/payment_intents", equal="customer")


@route("GET", r"/v1/payment_intents/search")
def payment_intents_search(e: Engine, p: Obj) -> Obj:
    return search(e, "payment_intent", p, "/v1/payment_intents/search")


@route("GET", r"/v1/payment_intents/{id}")
def payment_intents_retrieve(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "client_secret")
    return e.get("payment_intent", pi_id)


@route("POST", r"/v1/payment_intents/{id}")
def payment_intents_update(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "metadata description payment_method receipt_email setup_future_usage amount")
    pi = e.get("payment_intent", pi_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(pi["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if p.get("payment_method"):
        changes["payment_method"] = e.payment_method_for(p["payment_method"])["id"]
    if "amount" in p and pi["status"] != "succeeded" and not pi["invoice"]:
        changes["amount"] = as_int(p["amount"], param="amount")
    return e.update(pi, changes)


@route("POST", r"/v1/payment_intents/{id}/confirm")
def payment_intents_confirm(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "payment_method off_session return_url setup_future_usage mandate_data")
    pi = e.get("payment_intent", pi_id)
    if pi["status"] == "succeeded":
        raise StripeError(
            400,
            "This PaymentIntent's status is succeeded, so it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    if pi["invoice"]:
        invoice = e.get("invoice", pi["invoice"])
        error = e.attempt_invoice(invoice, pm_id=pm_id, retry_schedule=False)
        if error is None:
            e.after_invoice_paid(invoice)
    else:
        error = e.confirm_payment_intent(pi, pm_id)
    if error is not None:
        raise error
    return pi


@route("POST", r"/v1/payment_intents/{id}/cancel")
def payment_intents_cancel(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "cancellation_reason")
    pi = e.get("payment_intent", pi_id)
    if pi["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
            code="payment_intent_unexpected_state",
        )
    e.update(
        pi,
        {
            "status": "canceled",
            "canceled_at": e.now,
            "cancellation_reason": p.get("cancellation_reason") or "requested_by_customer",
        },
        "payment_intent.canceled",
    )
    return pi


@route("GET", r"/v1/charges")
def charges_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "charge", "/v1/charges", equal="customer payment_intent")


@route("GET", r"/v1/charges/search")
def charges_search(e: Engine, p: Obj) -> Obj:
    return search(e, "charge", p, "/v1/charges/search")


@route("GET", r"/v1/charges/{id}")
def charges_retrieve(e: Engine, p: Obj, charge_id: str) -> Obj:
    return e.get("charge", charge_id)


@route("GET", r"/v1/charges/{id}/refunds")
def charges_refunds(e: Engine, p: Obj, charge_id: str) -> Obj:
    e.get("charge", charge_id)
    return e.paginate(
        [r for r in e.all("refund") if r["charge"] == charge_id], p, f"/v1/charges/{charge_id}/refunds"
    )


def create_refund(e: Engine, charge: Obj, amount: int | None, reason: str | None, metadata: Obj) -> Obj:
    if not charge["paid"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has not been paid.",
            code=None,
            param="charge",
        )
    dispute = e.find("dispute", e.m(charge["id"]).get("dispute", ""))
    if dispute is not None and not dispute["is_charge_refundable"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
            param="charge",
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise StripeError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="charge_already_refunded" if remaining == 0 else None,
            param="amount",
        )
    refund_id = e.new_id("re")
    txn = e.balance_transaction(
        amount=-amount,
        currency=charge["currency"],
        source=refund_id,
        kind="refund",
        description="REFUND FOR CHARGE",
    )
    refund = e.created(
        {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge["id"],
            "created": e.now,
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
    )
    e.emit("refund.created", refund)
    refunded = charge["amount_refunded"] + amount
    charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
    e.update(
        charge, {"amount_refunded": refunded, "refunded": refunded == charge["amount"]}, "charge.refunded"
    )
    return refund


@route("POST", r"/v1/refunds")
def refunds_create(e: Engine, p: Obj) -> Obj:
    allow(p, "charge payment_intent amount reason metadata refund_application_fee reverse_transfer")
    if p.get("charge"):
        charge = e.get("charge", p["charge"], param="charge")
    elif p.get("payment_intent"):
        pi = e.get("payment_intent", p["payment_intent"], param="payment_intent")
        if not pi["latest_charge"]:
            raise StripeError(
                400, "This PaymentIntent does not have a successful charge to refund.", param="payment_intent"
            )
        charge = e.get("charge", pi["latest_charge"])
    else:
        raise ParamError("Missing required param: charge.", param="charge", code="parameter_missing")
    reason = p.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise ParamError(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
        )
    amount = as_int(p["amount"], param="amount") if "amount" in p else None
    return create_refund(e, charge, amount, reason, as_dict(p.get("metadata", {}), param="metadata"))


@route("GET", r"/v1/refunds")
def refunds_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "refund", "/v1/refunds", equal="charge payment_intent", created=False)


@route("GET", r"/v1/refunds/{id}")
def refunds_retrieve(e: Engine, p: Obj, refund_id: str) -> Obj:
    return e.get("refund", refund_id)
