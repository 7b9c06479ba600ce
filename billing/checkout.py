"""Checkout: opening a Stripe Checkout Session, and what happens when one completes.

One user holds at most one live subscription (docs/billing.md, "One live subscription"):

1. ``checkout_session_create`` refuses a second checkout while the user has a live subscription
   or another open Checkout Session (asked of Stripe, not only of the local copy, which lags
   behind the webhooks); the same plan's open session is handed back instead of a new one.
2. ``checkout_completed_link`` (the ``checkout.session.completed`` webhook, and the success page
   through ``checkout_session_confirm``) expires the user's other open sessions.
3. If Stripe still completed a second one (two tabs paid within seconds), the newer subscription
   is cancelled at once, its payment refunded in full, and the user told by e-mail.

Every step is keyed on Stripe's objects, so duplicate, concurrent and out-of-order deliveries
(or the success page racing the webhook) act once.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from djstripe.models import Customer, Subscription

from accounts.models import User
from billing.customers import customer_get_or_create
from billing.entitlements import entitlements_invalidate
from billing.hooks import checkout_discounts_for
from billing.models import BillingNotification
from billing.notifications import notification_claim, notification_email_enqueue
from billing.selectors import (
    customer_get_for_user,
    price_get_for_sale,
    stripe_id,
    subscription_get_live_for_user,
    subscription_list_for_user,
)
from billing.statuses import LIVE_STATUSES
from billing.stripe_client import stripe_errors
from config.errors import ConflictError

logger = logging.getLogger(__name__)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _user_lock(user: User) -> None:
    """Serialises one user's checkout decisions (two tabs, two webhooks) on their row."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _open_sessions(customer_id: str) -> list[dict[str, Any]]:
    with stripe_errors():
        found = stripe.checkout.Session.list(customer=customer_id, status="open", limit=100)
        return [s.to_dict() for s in found.auto_paging_iter()]


def _live_subscriptions(customer_id: str) -> list[dict[str, Any]]:
    """The customer's subscriptions that still run, as Stripe has them now, oldest first."""
    with stripe_errors():
        found = stripe.Subscription.list(customer=customer_id, status="all", limit=100)
        subscriptions = [s.to_dict() for s in found.auto_paging_iter()]
    live = [s for s in subscriptions if s.get("status") in LIVE_STATUSES]
    return sorted(live, key=lambda s: (int(s.get("created") or 0), str(s["id"])))


def _session_price_id(session: dict[str, Any]) -> str:
    return str((session.get("metadata") or {}).get("price_id") or "")


def _check_no_other_checkout(*, user: User, customer_id: str, price_id: str) -> str | None:
    """Raises 409 when the user already pays or is checking out another plan; returns the URL
    of an open session for this very price (the same checkout, resumed), else None."""
    if subscription_get_live_for_user(user=user) is not None or _live_subscriptions(customer_id):
        raise ConflictError(
            "You already have a subscription. Change its plan from the billing page.",
            code="already_subscribed",
        )
    resumable = None
    for session in _open_sessions(customer_id):
        if _session_price_id(session) == price_id and session.get("url"):
            resumable = str(session["url"])
            continue
        raise ConflictError(
            "You have a checkout in progress for another plan. Finish it, or cancel it from the "
            "pricing page and choose again.",
            code="checkout_in_progress",
        )
    return resumable


@transaction.atomic
def checkout_session_create(*, user: User, price_id: str) -> str:
    """Opens a Stripe Checkout Session (subscription mode) for a plan price; returns its URL.

    Refuses an unknown price (404 ``unknown_price``), a user who already has a live subscription
    (409 ``already_subscribed``: they change plan instead) and a user with an open checkout for
    another price (409 ``checkout_in_progress``; ``checkout_sessions_expire`` cancels it). An
    open session for the same price is returned again rather than duplicated. A plan with
    ``trial_days`` gives a trial to users who never subscribed before. Discounts from
    ``billing.hooks`` replace the promotion-code box (Stripe forbids both together).
    """
    price, plan = price_get_for_sale(price_id=price_id)
    _user_lock(user)
    customer = customer_get_or_create(user=user)
    resumable = _check_no_other_checkout(user=user, customer_id=customer.id, price_id=price.id)
    if resumable is not None:
        return resumable
    metadata = {"user_id": str(user.pk), "plan": plan.code, "price_id": price.id}
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer.id,
        "client_reference_id": str(user.pk),
        "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": _absolute("/billing/success/?session_id={CHECKOUT_SESSION_ID}"),
        "cancel_url": _absolute("/billing/pricing/"),
        "metadata": metadata,
        "subscription_data": {"metadata": {"user_id": str(user.pk), "plan": plan.code}},
    }
    trial_days = plan.trial_days or int((price.recurring or {}).get("trial_period_days") or 0)
    if trial_days and not subscription_list_for_user(user=user).exists():
        params["subscription_data"]["trial_period_days"] = trial_days
    discounts = checkout_discounts_for(user)
    if discounts:
        params["discounts"] = discounts
    else:
        params["allow_promotion_codes"] = True
    with stripe_errors():
        session = stripe.checkout.Session.create(**params)
    return str(session.url)


def _expire_sessions(sessions: list[dict[str, Any]], *, keep: str = "") -> int:
    expired = 0
    for session in sessions:
        if session["id"] == keep:
            continue
        # Already completed or expired meanwhile: nothing left to stop.
        with stripe_errors(), suppress(stripe.InvalidRequestError):
            stripe.checkout.Session.expire(session["id"])
            expired += 1
    return expired


@transaction.atomic
def checkout_sessions_expire(*, user: User) -> int:
    """Cancels the user's open Checkout Sessions (the "start over" of the pricing page);
    returns how many were open."""
    _user_lock(user)
    customer = customer_get_for_user(user=user)
    if customer is None:
        return 0
    return _expire_sessions(_open_sessions(customer.id))


def _linked_customer(*, user: User, customer_id: str, session_id: str) -> Customer | None:
    customer = Customer.objects.filter(id=customer_id).first()
    if customer is None:
        with stripe_errors():
            customer = Customer.sync_from_stripe_data(stripe.Customer.retrieve(customer_id))
    if customer.subscriber_id is None:
        customer.subscriber = user
        customer.save(update_fields=["subscriber"])
    elif customer.subscriber_id != user.pk:
        logger.warning("Checkout session %s: customer belongs to another user", session_id)
        return None
    return customer


@transaction.atomic
def checkout_completed_link(*, session_data: dict[str, Any]) -> User | None:
    """Links a completed Checkout Session's customer and subscription to the user who opened it.

    The user comes from ``client_reference_id`` (set by ``checkout_session_create``); the
    subscription is synced now so the success page does not wait for its own event, which may
    arrive later than this one. The user's other open sessions are expired; a subscription that
    is not the user's oldest live one is a duplicate and undone (see the module docstring).
    """
    ref = str(session_data.get("client_reference_id") or "")
    user = User.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
    customer_id = stripe_id(session_data.get("customer"))
    subscription_id = stripe_id(session_data.get("subscription"))
    if user is None or not customer_id or session_data.get("status") not in (None, "complete"):
        return None
    _user_lock(user)
    customer = _linked_customer(user=user, customer_id=customer_id, session_id=str(session_data.get("id")))
    if customer is None:
        return None
    _expire_sessions(_open_sessions(customer_id), keep=str(session_data.get("id") or ""))
    if subscription_id:
        live = _live_subscriptions(customer_id)
        if live and subscription_id in {s["id"] for s in live} and live[0]["id"] != subscription_id:
            _duplicate_undo(user=user, subscription_id=subscription_id, kept=live[0])
        elif not Subscription.objects.filter(id=subscription_id).exists():
            with stripe_errors():
                Subscription.sync_from_stripe_data(stripe.Subscription.retrieve(subscription_id))
    entitlements_invalidate(user_id=user.pk)
    return user


def _refund_in_full(*, subscription: dict[str, Any]) -> tuple[str, int, str]:
    """Refunds what the subscription's first invoice charged; returns (charge id, amount, currency)."""
    invoice_id = stripe_id(subscription.get("latest_invoice"))
    if not invoice_id:
        return "", 0, "usd"
    with stripe_errors():
        invoice = stripe.Invoice.retrieve(invoice_id).to_dict()
        charge_id = stripe_id(invoice.get("charge"))
        if not charge_id:
            return "", 0, str(invoice.get("currency") or "usd")
        charge = stripe.Charge.retrieve(charge_id).to_dict()
        remaining = int(charge.get("amount") or 0) - int(charge.get("amount_refunded") or 0)
        if remaining > 0:
            stripe.Refund.create(
                charge=charge_id,
                amount=remaining,
                reason="duplicate",
                metadata={"subscription": subscription["id"]},
                idempotency_key=f"relay-duplicate-refund-{subscription['id']}",
            )
    return charge_id, int(charge.get("amount") or 0), str(charge.get("currency") or "usd")


def _duplicate_undo(*, user: User, subscription_id: str, kept: dict[str, Any]) -> None:
    """Cancels a second live subscription now, refunds its payment and tells the user once."""
    logger.warning("User %s completed a second checkout: undoing %s", user.pk, subscription_id)
    with stripe_errors():
        subscription = stripe.Subscription.retrieve(subscription_id)
        if subscription.status in LIVE_STATUSES:
            subscription = stripe.Subscription.cancel(
                subscription_id, cancellation_details={"comment": "Duplicate checkout, refunded."}
            )
    charge_id, amount, currency = _refund_in_full(subscription=subscription.to_dict())
    Subscription.sync_from_stripe_data(subscription)
    if charge_id:
        # The refund's own charge.refunded e-mail would say less than this one: claim its key.
        notification_claim(
            kind=BillingNotification.Kind.REFUNDED, stripe_object_id=f"{charge_id}:{amount}", user=user
        )
    notification_email_enqueue(
        user=user,
        template="duplicate_refunded",
        dedupe_key=f"billing:duplicate-subscription:{subscription_id}",
        context={
            "amount": amount / 100,
            "currency": currency.upper(),
            "kept_status": kept.get("status"),
            "billing_url": _absolute("/billing/"),
        },
    )


@transaction.atomic
def checkout_session_confirm(*, user: User, session_id: str) -> bool:
    """The success page asks Stripe itself: when the user's session is complete, links it as the
    webhook would (idempotent). True when it is complete. A session of someone else, unknown
    or still open changes nothing."""
    if not session_id.startswith("cs_"):
        return False
    with stripe_errors():
        try:
            session = stripe.checkout.Session.retrieve(session_id).to_dict()
        except stripe.InvalidRequestError:
            return False
    if str(session.get("client_reference_id") or "") != str(user.pk) or session.get("status") != "complete":
        return False
    return checkout_completed_link(session_data=session) is not None
