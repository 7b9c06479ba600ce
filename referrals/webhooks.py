"""Stripe events referrals reacts to (dj-stripe signals): each reads the synced object and calls
one service. dj-stripe has stored and synced the event's object before these run, in the same
transaction; a handler that raises makes the endpoint answer 500 so Stripe retries.
"""

from __future__ import annotations

from typing import Any

import stripe
from djstripe.models import Charge, Customer, Event, Invoice

from billing.webhooks import connect_handlers, event_object, stripe_id
from referrals.rewards import referral_conversion_record, rewards_revoke_for_charge, rewards_revoke_for_refund


def _charge_data(charge_id: str) -> dict[str, Any]:
    """The charge as dj-stripe synced it, else as Stripe has it now (events arrive in any order)."""
    if not charge_id:
        return {}
    charge = Charge.objects.filter(id=charge_id).first()
    if charge is not None and charge.stripe_data:
        return dict(charge.stripe_data)
    return dict(stripe.Charge.retrieve(charge_id).to_dict())


def on_invoice_paid(sender: Any, event: Event, **kwargs: Any) -> None:
    payload = event_object(event)
    invoice = Invoice.objects.filter(id=stripe_id(payload)).first()
    data = dict(invoice.stripe_data) if invoice is not None and invoice.stripe_data else payload
    if int(data.get("amount_paid") or 0) <= 0:
        return  # a free trial's invoice is not a conversion
    customer = (
        Customer.objects.select_related("subscriber").filter(id=stripe_id(data.get("customer"))).first()
    )
    if customer is None or customer.subscriber is None:
        return
    charge_id = stripe_id(data.get("charge"))
    charge = _charge_data(charge_id)
    fingerprint = str(
        ((charge.get("payment_method_details") or {}).get("card") or {}).get("fingerprint") or ""
    )
    referral_conversion_record(
        referred=customer.subscriber,
        invoice_id=stripe_id(payload),
        charge_id=charge_id,
        card_fingerprint=fingerprint,
    )
    # The refund's or dispute's own event came first: the reward it should have taken back
    # exists only now.
    if charge.get("disputed"):
        rewards_revoke_for_charge(charge_id=charge_id, note="Payment disputed")
    elif charge.get("amount_refunded"):
        _revoke_for_refund(charge_id, charge)


def _revoke_for_refund(charge_id: str, charge: dict[str, Any]) -> None:
    rewards_revoke_for_refund(
        charge_id=charge_id,
        amount_cents=int(charge.get("amount") or 0),
        amount_refunded_cents=int(charge.get("amount_refunded") or 0),
    )


def on_charge_refunded(sender: Any, event: Event, **kwargs: Any) -> None:
    charge = event_object(event)
    _revoke_for_refund(stripe_id(charge), dict(charge))


def on_charge_dispute_created(sender: Any, event: Event, **kwargs: Any) -> None:
    rewards_revoke_for_charge(charge_id=stripe_id(event_object(event).get("charge")), note="Payment disputed")


HANDLERS: dict[str, Any] = {
    "invoice.paid": on_invoice_paid,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_charge_dispute_created,
}


def connect() -> None:
    connect_handlers(HANDLERS, app="referrals")
