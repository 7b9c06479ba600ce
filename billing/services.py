"""Writes for billing: the customer portal, subscription changes, and the project's
own reactions to Stripe events (e-mails, grace periods, cache invalidation).

Every outbound Stripe call goes through ``stripe_errors()`` so the client sees a 4xx/503 in the
project's error shape, never a 500. Reactions to webhooks carry their own unique key in the
database (``BillingNotification``, ``GracePeriod``), so duplicate or concurrent deliveries act once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djstripe.models import Customer, Subscription

from accounts.models import User
from billing.entitlements import entitlements_invalidate
from billing.models import BillingNotification, GracePeriod
from billing.notifications import notification_claim, notification_email_enqueue
from billing.plans import PlanLimits
from billing.selectors import (
    customer_get_for_user,
    price_get_for_sale,
    stripe_id,
    subscription_get_current_for_user,
    subscription_get_live_for_user,
    subscription_item,
    subscription_plan,
    subscription_price_id,
    subscription_status,
)
from billing.statuses import CHANGEABLE_STATUSES, GRACE_ENDING_STATUSES
from billing.stripe_client import stripe_errors
from config.errors import ApplicationError, ConflictError, NotFoundError

logger = logging.getLogger(__name__)

# How old a preview's proration date may be when the change is confirmed.
PRORATION_PREVIEW_MAX_AGE = timedelta(hours=1)


# --- Customer portal -------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def portal_session_create(*, user: User) -> str:
    """A Stripe customer portal session for the user's customer; returns its URL."""
    customer = customer_get_for_user(user=user)
    if customer is None:
        raise ConflictError("You have no billing account yet. Choose a plan first.", code="no_customer")
    with stripe_errors():
        session = stripe.billing_portal.Session.create(
            customer=customer.id, return_url=_absolute("/billing/")
        )
    return str(session.url)


# --- Subscription changes --------------------------------------------------------------------------


def _sync_subscription(data: Any, *, user: User) -> Subscription:
    subscription = Subscription.sync_from_stripe_data(data)
    entitlements_invalidate(user_id=user.pk)
    return subscription


def _running_subscription(*, user: User, action: str) -> Subscription:
    subscription = subscription_get_live_for_user(user=user)
    if subscription is None or subscription_status(subscription) not in CHANGEABLE_STATUSES:
        raise ConflictError(f"You have no active subscription to {action}.", code="not_active")
    return subscription


@transaction.atomic
def subscription_cancel(*, user: User) -> Subscription:
    """Cancels the user's subscription at the end of the paid period (it can be resumed until then)."""
    subscription = _running_subscription(user=user, action="cancel")
    if subscription.stripe_data.get("cancel_at_period_end"):
        raise ConflictError("Your subscription is already set to end.", code="already_canceling")
    with stripe_errors():
        data = stripe.Subscription.modify(subscription.id, cancel_at_period_end=True)
    return _sync_subscription(data, user=user)


@transaction.atomic
def subscription_resume(*, user: User) -> Subscription:
    """Undoes a cancellation at period end, before the period ends."""
    subscription = _running_subscription(user=user, action="resume")
    if not subscription.stripe_data.get("cancel_at_period_end"):
        raise ConflictError("Your subscription is not set to end.", code="not_canceling")
    with stripe_errors():
        data = stripe.Subscription.modify(subscription.id, cancel_at_period_end=False)
    return _sync_subscription(data, user=user)


@dataclass(frozen=True)
class _ChangeTarget:
    subscription: Subscription
    item: dict[str, Any]
    price_id: str
    # The trial rule of the pricing page (docs/billing.md, "Trials and plan changes"): a trial
    # lasts only on a plan that offers one; moving to any other plan ends it now and charges.
    ends_trial: bool


def trial_continues_on(*, subscription: Subscription, plan: PlanLimits) -> bool:
    """Whether a trialing subscription may stay on trial after moving to ``plan``: only when the
    plan offers a trial at least as long as the one already granted (Pro, monthly or yearly)."""
    data = subscription.stripe_data
    start, end = int(data.get("trial_start") or 0), int(data.get("trial_end") or 0)
    return plan.trial_days > 0 and end - start <= plan.trial_days * 86400


def _change_target(*, user: User, price_id: str) -> _ChangeTarget:
    price, plan = price_get_for_sale(price_id=price_id)
    subscription = _running_subscription(user=user, action="change")
    if subscription_price_id(subscription) == price.id:
        raise ConflictError(
            "You are already on this plan.", code="same_plan", fields={"price_id": ["Current plan."]}
        )
    item = subscription_item(subscription)
    if not item.get("id"):
        raise ConflictError("This subscription cannot be changed here.", code="not_changeable")
    trialing = subscription_status(subscription) == "trialing"
    ends_trial = trialing and not trial_continues_on(subscription=subscription, plan=plan)
    return _ChangeTarget(subscription=subscription, item=item, price_id=price.id, ends_trial=ends_trial)


def subscription_change_preview(*, user: User, price_id: str) -> dict[str, Any]:
    """What changing to ``price_id`` now would cost: the proration and the next invoice.

    Returns ``proration_date``; confirming with it charges exactly the amount shown. With
    ``ends_trial`` the trial stops on confirming and ``amount_due`` is charged at once.
    """
    target = _change_target(user=user, price_id=price_id)
    proration_date = int(timezone.now().timestamp())
    details: Any = {  # the SDK types this as a TypedDict; "trial_end" is optional in it
        "items": [{"id": target.item["id"], "price": target.price_id}],
        "proration_behavior": "create_prorations",
        "proration_date": proration_date,
    }
    if target.ends_trial:
        details["trial_end"] = "now"
    with stripe_errors():
        preview_obj = stripe.Invoice.create_preview(
            customer=target.subscription.customer.id,
            subscription=target.subscription.id,
            subscription_details=details,
        )
    preview = preview_obj.to_dict()
    lines = (preview.get("lines") or {}).get("data") or []
    proration = sum(int(line.get("amount") or 0) for line in lines if line.get("proration"))
    return {
        "price_id": target.price_id,
        "currency": preview.get("currency") or "usd",
        "proration_amount": proration,
        "amount_due": int(preview.get("amount_due") or 0),
        "next_payment_attempt": preview.get("next_payment_attempt") or preview.get("period_end"),
        "proration_date": proration_date,
        "ends_trial": target.ends_trial,
    }


@transaction.atomic
def subscription_change(*, user: User, price_id: str, proration_date: int | None = None) -> Subscription:
    """Moves the subscription to another plan price, prorating the rest of the period.

    During a trial, a plan without a trial (see ``trial_continues_on``) ends the trial now and
    charges the new price in full; a plan with one keeps the trial's end date.

    ``proration_date`` (from the preview, at most an hour old) makes the charge match the preview.
    """
    target = _change_target(user=user, price_id=price_id)
    now = timezone.now()
    if proration_date is not None:
        when = datetime.fromtimestamp(proration_date, tz=timezone.get_current_timezone())
        if not (now - PRORATION_PREVIEW_MAX_AGE <= when <= now + timedelta(minutes=5)):
            raise ApplicationError(
                "This preview has expired. Preview the change again.",
                code="preview_expired",
                fields={"proration_date": ["Expired."]},
            )
    params: dict[str, Any] = {
        "items": [{"id": target.item["id"], "price": target.price_id}],
        "proration_behavior": "create_prorations",
    }
    if proration_date is not None:
        params["proration_date"] = proration_date
    if target.ends_trial:
        # The new plan has no trial: it starts now and is paid now; a declined card refuses
        # the change (402) and leaves the trial as it was.
        params.update(trial_end="now", payment_behavior="error_if_incomplete")
    with stripe_errors():
        data = stripe.Subscription.modify(target.subscription.id, **params)
    return _sync_subscription(data, user=user)


# --- Reactions to Stripe events (called by billing.webhooks) ----------------------------------------


def user_get_for_customer(customer: Customer | None) -> User | None:
    if customer is None:
        return None
    return customer.subscriber


@transaction.atomic
def subscription_changed(*, subscription: Subscription) -> None:
    """A subscription changed in Stripe: drop cached entitlements, end a grace period once paid."""
    user = user_get_for_customer(subscription.customer)
    status = subscription_status(subscription)
    if status in GRACE_ENDING_STATUSES:
        GracePeriod.objects.filter(subscription_id=subscription.id).delete()
    plan = subscription_plan(subscription)
    if status == "trialing" and plan is not None and plan.trial_days == 0:
        # Moved to a plan without a trial elsewhere (the customer portal, the dashboard): the
        # pricing page's rule holds there too, the trial ends and the plan is charged now.
        # (A longer trial on a plan that has one is left alone: staff may have granted it.)
        with stripe_errors():
            data = stripe.Subscription.modify(subscription.id, trial_end="now")
        subscription = Subscription.sync_from_stripe_data(data)
    if user is not None:
        entitlements_invalidate(user_id=user.pk)


@transaction.atomic
def trial_ending_notify(*, subscription: Subscription) -> bool:
    """E-mails the user once per trial that their trial ends soon. True when sent."""
    user = user_get_for_customer(subscription.customer)
    trial_end = subscription.stripe_data.get("trial_end")
    if user is None or not trial_end or subscription_status(subscription) != "trialing":
        return False
    if not notification_claim(
        kind=BillingNotification.Kind.TRIAL_ENDING,
        stripe_object_id=f"{subscription.id}:{trial_end}",
        user=user,
    ):
        return False
    plan = subscription_plan(subscription)
    notification_email_enqueue(
        user=user,
        template="trial_ending",
        context={"trial_end": subscription.trial_end, "plan_name": plan.name if plan else "your plan"},
    )
    return True


@transaction.atomic
def payment_failed_record(*, invoice_id: str, subscription_id: str | None, customer: Customer | None) -> bool:
    """A payment failed: start the grace period (first failure only) and e-mail once per invoice."""
    user = user_get_for_customer(customer)
    if user is None:
        return False
    if subscription_id:
        GracePeriod.objects.get_or_create(
            subscription_id=subscription_id,
            defaults={"user": user, "invoice_id": invoice_id, "started_at": timezone.now()},
        )
    entitlements_invalidate(user_id=user.pk)
    if not notification_claim(
        kind=BillingNotification.Kind.PAYMENT_FAILED, stripe_object_id=invoice_id, user=user
    ):
        return False
    notification_email_enqueue(
        user=user,
        template="payment_failed",
        context={
            "grace_days": settings.BILLING_GRACE_PERIOD_DAYS,
            "billing_url": _absolute("/billing/"),
        },
    )
    return True


@transaction.atomic
def invoice_paid_record(
    *, subscription_id: str | None, customer: Customer | None, invoice: dict[str, Any] | None = None
) -> None:
    """An invoice was paid: the grace period of its subscription (if any) ends, and the user
    gets a receipt with the invoice link once per invoice that took money (a trial's $0
    invoice charges nothing and gets none)."""
    if subscription_id:
        GracePeriod.objects.filter(subscription_id=subscription_id).delete()
    user = user_get_for_customer(customer)
    if user is None:
        return
    entitlements_invalidate(user_id=user.pk)
    if invoice is not None:
        receipt_send(user=user, invoice=invoice)


def receipt_send(*, user: User, invoice: dict[str, Any]) -> bool:
    """E-mails the receipt of a paid invoice once (``invoice.paid`` and
    ``invoice.payment_succeeded`` both arrive for one payment). True when queued now."""
    amount = int(invoice.get("amount_paid") or 0)
    if invoice.get("status") != "paid" or amount <= 0:
        return False
    invoice_id = stripe_id(invoice)
    if not notification_claim(
        kind=BillingNotification.Kind.PAYMENT_RECEIVED, stripe_object_id=invoice_id, user=user
    ):
        return False
    notification_email_enqueue(
        user=user,
        template="payment_received",
        dedupe_key=f"billing:receipt:{invoice_id}",
        context={
            "amount": amount / 100,
            "currency": str(invoice.get("currency") or "usd").upper(),
            "number": invoice.get("number") or "",
            "invoice_url": invoice.get("hosted_invoice_url") or _absolute("/billing/"),
            "billing_url": _absolute("/billing/"),
        },
    )
    return True


@transaction.atomic
def refund_notify(*, charge_id: str, amount_refunded: int, currency: str, customer: Customer | None) -> bool:
    """E-mails the user once per refunded amount of a charge."""
    user = user_get_for_customer(customer)
    if user is None or amount_refunded <= 0:
        return False
    if not notification_claim(
        kind=BillingNotification.Kind.REFUNDED, stripe_object_id=f"{charge_id}:{amount_refunded}", user=user
    ):
        return False
    notification_email_enqueue(
        user=user,
        template="refunded",
        context={"amount": amount_refunded / 100, "currency": currency.upper()},
    )
    return True


def subscription_get_for_user(*, user: User) -> Subscription:
    subscription = subscription_get_current_for_user(user=user)
    if subscription is None:
        raise NotFoundError("You have no subscription.", code="no_subscription")
    return subscription


# --- Failed webhook events -------------------------------------------------------------------------


def webhook_trigger_reprocess(*, trigger: Any) -> bool:
    """Processes again a delivery that passed the signature check but failed while processing.

    Returns True when it is processed now. An invalid (unsigned, forged or stale) delivery is
    never processed. An event that a later Stripe retry already processed is only marked done.
    """
    if not trigger.valid or trigger.processed:
        return False
    try:
        with transaction.atomic():
            trigger.process(save=False)
    except Exception as exc:  # noqa: BLE001 - the error is recorded on the row for the admin
        trigger.exception = str(exc)[:128]
        trigger.processed = False
        trigger.save(update_fields=["exception", "traceback", "processed", "updated"])
        logger.warning("Reprocessing webhook trigger %s failed: %s", trigger.pk, exc)
        return False
    trigger.save()
    return True
