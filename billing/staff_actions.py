"""Staff money actions: refunds, account credit, cancelling or resuming a subscription for its
customer, and re-syncing a customer from Stripe.

Each is one service that calls Stripe, re-syncs what Stripe answered into dj-stripe's rows,
records an audit entry (``AuditEntry.Kind.BILLING``, with the staff member's reason) and, where
the user would expect to hear about it, queues an e-mail, all in one transaction. The admin
checks the permission (``billing.<codename>`` on ``StaffBillingAction``) before calling;
these functions check the state of the Stripe object and raise ``ApplicationError`` when the
action makes no sense (nothing left to refund, already cancelled...).

Money-moving calls carry an idempotency key from the staff member's form, so a double submit
or a retry after a lost response refunds or credits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from djstripe.models import Charge, Customer, Refund, Subscription

from accounts.models import User
from audit.models import AuditEntry
from audit.services import audit_record
from billing.entitlements import entitlements_invalidate
from billing.models import BillingNotification
from billing.money import money_format
from billing.reconcile import reconcile
from billing.selectors import stripe_id, subscription_plan, subscription_status
from billing.statuses import LIVE_STATUSES
from billing.stripe_client import stripe_errors
from config.errors import ApplicationError, ConflictError
from outbox.services import email_enqueue

# Stripe's own refund reasons (the staff member's words go to the audit log and metadata).
STRIPE_REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")
CancelWhen = Literal["period_end", "now"]


def _email(*, user: User | None, template: str, context: dict[str, Any]) -> None:
    if user is None or not user.email:
        return
    ctx = {"user": user, "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    email_enqueue(to=user.email, template=f"billing/email/{template}", context=ctx)


def _claim_refund_email(*, charge_id: str, amount_refunded: int, user: User) -> bool:
    """Takes the key ``billing.services.refund_notify`` uses for the ``charge.refunded`` webhook
    (kind REFUNDED, ``<charge>:<total refunded>``), so the user gets this e-mail, with the staff
    member's wording, and not a second one when the webhook arrives."""
    try:
        with transaction.atomic():
            BillingNotification.objects.create(
                kind=BillingNotification.Kind.REFUNDED,
                stripe_object_id=f"{charge_id}:{amount_refunded}",
                user=user,
            )
    except IntegrityError:
        return False
    return True


def charge_refundable_amount(charge: Charge) -> int:
    """What is left to refund on a charge, in minor units (0 for an unpaid charge)."""
    data = charge.stripe_data
    if not data.get("paid") or data.get("status") != "succeeded":
        return 0
    return max(int(data.get("amount") or 0) - int(data.get("amount_refunded") or 0), 0)


def charge_user(charge: Charge) -> User | None:
    customer = Customer.objects.select_related("subscriber").filter(id=stripe_id(charge.customer)).first()
    return customer.subscriber if customer is not None else None


@dataclass(frozen=True)
class RefundIssued:
    refund_id: str
    amount: int
    currency: str
    fully_refunded: bool


@transaction.atomic
def charge_refund(
    *,
    actor: User,
    charge: Charge,
    amount: int | None,
    reason: str,
    stripe_reason: str = "requested_by_customer",
    idempotency_key: str,
) -> RefundIssued:
    """Refunds ``amount`` (minor units; None = all that is left) of a succeeded charge in Stripe.

    Refuses an amount of zero, or more than is left to refund (``refund_amount``). The user is
    e-mailed the amount refunded.
    """
    refundable = charge_refundable_amount(charge)
    wanted = refundable if amount is None else amount
    if refundable <= 0:
        raise ConflictError("Nothing is left to refund on this charge.", code="not_refundable")
    if wanted <= 0 or wanted > refundable:
        currency = str(charge.stripe_data.get("currency") or "usd")
        raise ApplicationError(
            f"The refund must be more than zero and at most {money_format(refundable, currency)}.",
            code="refund_amount",
            fields={"amount": ["Out of range."]},
        )
    with stripe_errors():
        refund_obj = stripe.Refund.create(
            charge=charge.id,
            amount=wanted,
            reason=stripe_reason if stripe_reason in STRIPE_REFUND_REASONS else "requested_by_customer",
            metadata={"staff_actor": str(actor.pk), "staff_reason": reason[:500]},
            idempotency_key=f"relay-staff-refund-{idempotency_key}",
        )
        synced_charge = Charge.sync_from_stripe_data(stripe.Charge.retrieve(charge.id))
        Refund.sync_from_stripe_data(refund_obj)
    data = synced_charge.stripe_data
    currency = str(data.get("currency") or "usd")
    issued = RefundIssued(
        refund_id=str(refund_obj.id),
        amount=wanted,
        currency=currency,
        fully_refunded=bool(data.get("refunded")),
    )
    user = charge_user(synced_charge)
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.BILLING,
        action="charge.refund",
        target_user=user,
        obj=synced_charge,
        reason=reason,
        details={
            "refund": issued.refund_id,
            "amount": wanted,
            "currency": currency,
            "full": amount is None,
            "stripe_reason": stripe_reason,
        },
    )
    if user is not None and _claim_refund_email(
        charge_id=charge.id, amount_refunded=int(data.get("amount_refunded") or 0), user=user
    ):
        _email(
            user=user,
            template="staff_refund_issued",
            context={"amount": money_format(wanted, currency), "fully_refunded": issued.fully_refunded},
        )
    return issued


@transaction.atomic
def customer_credit_add(
    *, actor: User, customer: Customer, amount: int, reason: str, idempotency_key: str
) -> str:
    """Credits ``amount`` (minor units, > 0) to the customer's Stripe balance, which Stripe takes
    off their next invoices; e-mails the user. Returns the balance transaction's id."""
    if amount <= 0:
        raise ApplicationError(
            "The credit must be more than zero.", code="credit_amount", fields={"amount": ["Too small."]}
        )
    currency = customer_currency(customer)
    with stripe_errors():
        txn = stripe.Customer.create_balance_transaction(
            customer.id,
            amount=-amount,
            currency=currency,
            description=f"Credit from {settings.SITE_NAME}",
            metadata={"staff_actor": str(actor.pk), "staff_reason": reason[:500]},
            idempotency_key=f"relay-staff-credit-{idempotency_key}",
        )
        synced = Customer.sync_from_stripe_data(stripe.Customer.retrieve(customer.id))
    user = synced.subscriber
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.BILLING,
        action="customer.credit",
        target_user=user,
        obj=synced,
        reason=reason,
        details={
            "transaction": str(txn.id),
            "amount": amount,
            "currency": currency,
            "balance": synced.balance,
        },
    )
    _email(
        user=user,
        template="staff_credit_added",
        context={
            "amount": money_format(amount, currency),
            "balance": money_format(-synced.balance, currency),
        },
    )
    if user is not None:
        entitlements_invalidate(user_id=user.pk)
    return str(txn.id)


def customer_currency(customer: Customer) -> str:
    """The currency a balance credit must be in: the customer's own once they were charged."""
    return str(customer.stripe_data.get("currency") or "usd").lower()


def _subscription_user(subscription: Subscription) -> User | None:
    customer = (
        Customer.objects.select_related("subscriber").filter(id=stripe_id(subscription.customer)).first()
    )
    return customer.subscriber if customer is not None else None


def _subscription_context(subscription: Subscription) -> dict[str, Any]:
    plan = subscription_plan(subscription)
    return {"plan_name": plan.name if plan else "your plan", "period_end": subscription.current_period_end}


@transaction.atomic
def subscription_cancel_by_staff(
    *, actor: User, subscription: Subscription, when: CancelWhen, reason: str
) -> Subscription:
    """Cancels a running subscription for its customer: at the end of the paid period (it can be
    resumed until then) or now (paid features end at once; no refund: that is a separate action).
    E-mails the user."""
    status = subscription_status(subscription)
    if status not in LIVE_STATUSES:
        raise ConflictError("This subscription is not running.", code="not_active")
    if when == "period_end" and subscription.stripe_data.get("cancel_at_period_end"):
        raise ConflictError("This subscription is already set to end.", code="already_canceling")
    comment = reason[:500]
    with stripe_errors():
        if when == "now":
            data = stripe.Subscription.cancel(subscription.id, cancellation_details={"comment": comment})
        else:
            data = stripe.Subscription.modify(
                subscription.id, cancel_at_period_end=True, cancellation_details={"comment": comment}
            )
        synced = Subscription.sync_from_stripe_data(data)
    user = _subscription_user(synced)
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.BILLING,
        action="subscription.cancel",
        target_user=user,
        obj=synced,
        reason=reason,
        details={"when": when, "status_before": status, "status": subscription_status(synced)},
    )
    _email(
        user=user,
        template="staff_subscription_cancelled",
        context={**_subscription_context(synced), "now": when == "now"},
    )
    if user is not None:
        entitlements_invalidate(user_id=user.pk)
    return synced


@transaction.atomic
def subscription_resume_by_staff(*, actor: User, subscription: Subscription, reason: str) -> Subscription:
    """Undoes a cancellation at period end (or resumes a paused subscription); e-mails the user.
    A subscription that has already ended cannot be resumed: the user subscribes again."""
    status = subscription_status(subscription)
    paused = status == "paused"
    if not paused and (
        status not in LIVE_STATUSES or not subscription.stripe_data.get("cancel_at_period_end")
    ):
        raise ConflictError("This subscription is not set to end.", code="not_canceling")
    with stripe_errors():
        if paused:
            data = stripe.Subscription.resume(subscription.id)
        else:
            data = stripe.Subscription.modify(subscription.id, cancel_at_period_end=False)
        synced = Subscription.sync_from_stripe_data(data)
    user = _subscription_user(synced)
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.BILLING,
        action="subscription.resume",
        target_user=user,
        obj=synced,
        reason=reason,
        details={"status_before": status, "status": subscription_status(synced)},
    )
    _email(user=user, template="staff_subscription_resumed", context=_subscription_context(synced))
    if user is not None:
        entitlements_invalidate(user_id=user.pk)
    return synced


@transaction.atomic
def customer_resync(*, actor: User, customer: Customer, reason: str) -> list[str]:
    """Re-reads a customer and its subscriptions, invoices and charges from Stripe (for a missed
    or failed webhook); returns what changed, one line each. Nothing is e-mailed."""
    with stripe_errors():
        report = reconcile(customers=[customer])
        changes = report.fixed + [f"gone from Stripe: {gone}" for gone in report.gone]
        charges = 0
        for charge_obj in stripe.Charge.list(customer=customer.id, limit=100).auto_paging_iter():
            Charge.sync_from_stripe_data(charge_obj)
            charges += 1
    customer.refresh_from_db()
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.BILLING,
        action="customer.resync",
        target_user=customer.subscriber,
        obj=customer,
        reason=reason,
        details={"changes": changes, "charges_synced": charges},
    )
    return changes
