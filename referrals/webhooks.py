"""Stripe events referrals reacts to (dj-stripe signals): each reads the synced object and calls
one service. dj-stripe has stored and synced the event's object before these run, in the same
transaction; a handler that raises makes the endpoint answer 500 so Stripe retries.
"""

from __future__ import annotations

from typing import Any

import stripe
from djstripe.models import Charge, Customer, Event, Invoice

from billing.webhooks import connect_handlers, event_object, stripe_id
from referrals.rewards import referral_conversion_record, rewards_revoke_for_charge


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
    if charge.get("amount_refunded") or charge.get("disputed"):
        # The refund's own event came first: the reward it should have cancelled exists only now.
        rewards_revoke_for_charge(charge_id=charge_id, note="Payment refunded")


def on_charge_refunded(sender: Any, event: Event, **kwargs: Any) -> None:
    rewards_revoke_for_charge(charge_id=stripe_id(event_object(event)), note="Payment refunded")


def on_charge_dispute_created(sender: Any, event: Event, **kwargs: Any) -> None:
    rewards_revoke_for_charge(charge_id=stripe_id(event_object(event).get("charge")), note="Payment disputed")


HANDLERS: dict[str, Any] = {
    "invoice.paid": on_invoice_paid,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_charge_dispute_created,
}


def connect() -> None:
    connect_handlers(HANDLERS, app="referrals")
