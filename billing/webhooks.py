"""Reactions to Stripe events: one small handler per event type, connected to dj-stripe's signals.

dj-stripe has already verified the signature, stored the Event once per event id and synced the
object by re-fetching it from Stripe before these run (its handlers connect first), inside the
same transaction. So each handler reads the *current* synced object, not the event payload
(which may be stale when events arrive out of order), and calls one service. A handler that
raises rolls the event back and makes the endpoint answer 500, so Stripe retries.
"""

from __future__ import annotations

import logging
from typing import Any

from djstripe.models import Charge, Customer, Event, Invoice, Subscription
from djstripe.signals import WEBHOOK_SIGNALS

from billing import checkout, services
from billing.entitlements import entitlements_invalidate, entitlements_invalidate_all
from billing.selectors import stripe_id

logger = logging.getLogger(__name__)


def event_object(event: Event) -> dict[str, Any]:
    """The object an event carries, as a plain dict (empty when there is none)."""
    return dict((event.data or {}).get("object") or {})


def _subscription(event: Event) -> Subscription | None:
    return (
        Subscription.objects.select_related("customer__subscriber")
        .filter(id=stripe_id(event_object(event)))
        .first()
    )


def _customer(customer_id: str) -> Customer | None:
    return (
        Customer.objects.select_related("subscriber").filter(id=customer_id).first() if customer_id else None
    )


def on_subscription_changed(sender: Any, event: Event, **kwargs: Any) -> None:
    subscription = _subscription(event)
    if subscription is not None:
        services.subscription_changed(subscription=subscription)


def on_trial_will_end(sender: Any, event: Event, **kwargs: Any) -> None:
    subscription = _subscription(event)
    if subscription is not None:
        services.subscription_changed(subscription=subscription)
        services.trial_ending_notify(subscription=subscription)


def _invoice_data(event: Event) -> dict[str, Any]:
    payload = event_object(event)
    invoice = Invoice.objects.filter(id=stripe_id(payload)).first()
    return dict(invoice.stripe_data) if invoice is not None else payload


def _invoice_parts(event: Event) -> tuple[str, str | None, Customer | None]:
    data = _invoice_data(event)
    subscription_id = stripe_id(data.get("subscription")) or None
    return stripe_id(data), subscription_id, _customer(stripe_id(data.get("customer")))


def on_invoice_payment_failed(sender: Any, event: Event, **kwargs: Any) -> None:
    invoice_id, subscription_id, customer = _invoice_parts(event)
    # A first payment that fails (at checkout or on subscription create) never paid for
    # anything: no grace period and no dunning e-mail; the person is told on the spot.
    if _invoice_data(event).get("billing_reason") == "subscription_create":
        return
    services.payment_failed_record(invoice_id=invoice_id, subscription_id=subscription_id, customer=customer)


def on_invoice_paid(sender: Any, event: Event, **kwargs: Any) -> None:
    _invoice_id, subscription_id, customer = _invoice_parts(event)
    services.invoice_paid_record(
        subscription_id=subscription_id, customer=customer, invoice=_invoice_data(event)
    )


def on_invoice_other(sender: Any, event: Event, **kwargs: Any) -> None:
    _invoice_id, _subscription_id, customer = _invoice_parts(event)
    if customer is not None and customer.subscriber_id:
        entitlements_invalidate(user_id=customer.subscriber_id)


def on_payment_intent(sender: Any, event: Event, **kwargs: Any) -> None:
    customer = _customer(stripe_id(event_object(event).get("customer")))
    if customer is not None and customer.subscriber_id:
        entitlements_invalidate(user_id=customer.subscriber_id)


def on_checkout_completed(sender: Any, event: Event, **kwargs: Any) -> None:
    payload = event_object(event)
    if payload.get("mode") == "subscription":
        checkout.checkout_completed_link(session_data=payload)


def on_customer_changed(sender: Any, event: Event, **kwargs: Any) -> None:
    customer = _customer(stripe_id(event_object(event)))
    if customer is not None and customer.subscriber_id:
        entitlements_invalidate(user_id=customer.subscriber_id)


def on_catalogue_changed(sender: Any, event: Event, **kwargs: Any) -> None:
    entitlements_invalidate_all()


def on_charge_refunded(sender: Any, event: Event, **kwargs: Any) -> None:
    payload = event_object(event)
    charge = Charge.objects.filter(id=stripe_id(payload)).first()
    data = charge.stripe_data if charge is not None else payload
    services.refund_notify(
        charge_id=stripe_id(payload),
        amount_refunded=int(data.get("amount_refunded") or 0),
        currency=str(data.get("currency") or "usd"),
        customer=_customer(stripe_id(data.get("customer"))),
    )


HANDLERS: dict[str, Any] = {
    "customer.subscription.created": on_subscription_changed,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
    "customer.subscription.paused": on_subscription_changed,
    "customer.subscription.resumed": on_subscription_changed,
    "customer.subscription.pending_update_applied": on_subscription_changed,
    "customer.subscription.pending_update_expired": on_subscription_changed,
    "customer.subscription.trial_will_end": on_trial_will_end,
    "invoice.payment_failed": on_invoice_payment_failed,
    "invoice.paid": on_invoice_paid,
    "invoice.payment_succeeded": on_invoice_paid,
    "invoice.finalized": on_invoice_other,
    "invoice.created": on_invoice_other,
    "invoice.updated": on_invoice_other,
    "invoice.voided": on_invoice_other,
    "invoice.marked_uncollectible": on_invoice_other,
    "invoice.upcoming": on_invoice_other,
    "payment_intent.succeeded": on_payment_intent,
    "payment_intent.payment_failed": on_payment_intent,
    "payment_intent.canceled": on_payment_intent,
    "checkout.session.completed": on_checkout_completed,
    "customer.created": on_customer_changed,
    "customer.updated": on_customer_changed,
    "customer.deleted": on_customer_changed,
    "product.created": on_catalogue_changed,
    "product.updated": on_catalogue_changed,
    "product.deleted": on_catalogue_changed,
    "price.created": on_catalogue_changed,
    "price.updated": on_catalogue_changed,
    "price.deleted": on_catalogue_changed,
    "charge.refunded": on_charge_refunded,
}


def connect_handlers(handlers: dict[str, Any], *, app: str) -> None:
    """Connects an app's handlers to dj-stripe's per-event-type signals (idempotent:
    ``dispatch_uid`` per app and event type). Every app that reacts to Stripe uses this."""
    for event_type, handler in handlers.items():
        signal = WEBHOOK_SIGNALS.get(event_type)
        if signal is None:  # pragma: no cover - dj-stripe knows every type the apps list
            logger.warning("dj-stripe has no signal for %s", event_type)
            continue
        signal.connect(handler, sender=Event, dispatch_uid=f"{app}:{event_type}", weak=False)


def connect() -> None:
    connect_handlers(HANDLERS, app="billing")
