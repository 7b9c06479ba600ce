"""Stripe events referrals reacts to (dj-stripe signals): each reads the synced object and calls
one service. dj-stripe has stored and synced the event's object before these run, in the same
transaction; a handler that raises makes the endpoint answer 500 so Stripe retries.
"""

from __future__ import annotations

import logging
from typing import Any

import stripe
from djstripe.models import Charge, Customer, Event, Invoice
from djstripe.signals import WEBHOOK_SIGNALS

from referrals.rewards import referral_conversion_record, rewards_revoke_for_charge

logger = logging.getLogger(__name__)


def _object(event: Event) -> dict[str, Any]:
    return dict((event.data or {}).get("object") or {})


def _id(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _charge_data(charge_id: str) -> dict[str, Any]:
    """The charge as dj-stripe synced it, else as Stripe has it now (events arrive in any order)."""
    if not charge_id:
        return {}
    charge = Charge.objects.filter(id=charge_id).first()
    if charge is not None and charge.stripe_data:
        return dict(charge.stripe_data)
    return dict(stripe.Charge.retrieve(charge_id).to_dict())


def on_invoice_paid(sender: Any, event: Event, **kwargs: Any) -> None:
    payload = _object(event)
    invoice = Invoice.objects.filter(id=_id(payload)).first()
    data = dict(invoice.stripe_data) if invoice is not None and invoice.stripe_data else payload
    if int(data.get("amount_paid") or 0) <= 0:
        return  # a free trial's invoice is not a conversion
    customer = Customer.objects.select_related("subscriber").filter(id=_id(data.get("customer"))).first()
    if customer is None or customer.subscriber is None:
        return
    charge_id = _id(data.get("charge"))
    charge = _charge_data(charge_id)
    fingerprint = str(
        ((charge.get("payment_method_details") or {}).get("card") or {}).get("fingerprint") or ""
    )
    referral_conversion_record(
        referred=customer.subscriber,
        invoice_id=_id(payload),
        charge_id=charge_id,
        card_fingerprint=fingerprint,
    )
    if charge.get("amount_refunded") or charge.get("disputed"):
        # The refund's own event came first: the reward it should have cancelled exists only now.
        rewards_revoke_for_charge(charge_id=charge_id, note="Payment refunded")


def on_charge_refunded(sender: Any, event: Event, **kwargs: Any) -> None:
    rewards_revoke_for_charge(charge_id=_id(_object(event)), note="Payment refunded")


def on_charge_dispute_created(sender: Any, event: Event, **kwargs: Any) -> None:
    rewards_revoke_for_charge(charge_id=_id(_object(event).get("charge")), note="Payment disputed")


HANDLERS: dict[str, Any] = {
    "invoice.paid": on_invoice_paid,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_charge_dispute_created,
}


def connect() -> None:
    """Connects every handler (idempotent: ``dispatch_uid`` per event type)."""
    for event_type, handler in HANDLERS.items():
        signal = WEBHOOK_SIGNALS.get(event_type)
        if signal is None:  # pragma: no cover - dj-stripe knows every type listed above
            logger.warning("dj-stripe has no signal for %s", event_type)
            continue
        signal.connect(handler, sender=Event, dispatch_uid=f"referrals:{event_type}", weak=False)
