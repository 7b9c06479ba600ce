"""Writes for rewards: conversion on first payment, the hold, granting, cancelling, reversing.

Exactly one reward per referral is guaranteed by the ``referrals_reward_once_per_referral``
unique constraint: concurrent or repeated webhooks race on the INSERT and the loser reads
the winner's row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.coupons import coupon_ensure
from billing.credits import balance_credit_grant, balance_credit_reverse
from billing.selectors import card_fingerprints_list_for_user, subscription_list_for_user
from config.errors import ApplicationError, ConflictError
from referrals.models import Referral, Reward
from referrals.selectors import invoice_paid_before_exists

logger = logging.getLogger(__name__)


@transaction.atomic
def reward_create_for_conversion(*, referral: Referral) -> Reward | None:
    """The referrer's pending credit for a referral that converted (None if it may not earn one).

    Idempotent: a second call returns the existing reward.
    """
    if (
        referral.status in (Referral.Status.FLAGGED, Referral.Status.REJECTED)
        or referral.converted_at is None
    ):
        return None
    try:
        with transaction.atomic():
            reward = Reward.objects.create(
                referral=referral,
                beneficiary_id=referral.referrer_id,
                kind=Reward.Kind.REFERRER_CREDIT,
                amount_cents=settings.REFERRAL_REFERRER_CREDIT_CENTS,
                currency="usd",
                hold_until=referral.converted_at + timedelta(days=settings.REFERRAL_REWARD_HOLD_DAYS),
                stripe_invoice_id=referral.first_invoice_id,
                stripe_charge_id=referral.first_charge_id,
            )
    except IntegrityError:
        return Reward.objects.get(referral=referral, kind=Reward.Kind.REFERRER_CREDIT)
    return reward


@transaction.atomic
def referral_conversion_record(
    *,
    referred: User,
    invoice_id: str,
    charge_id: str = "",
    card_fingerprint: str = "",
    referrer_card_fingerprints: frozenset[str] | None = None,
) -> Reward | None:
    """The referred user's first invoice was paid: the referral converts and earns a pending reward.

    Only the user's first paid invoice counts: a later one (a renewal, also when the referral
    was made after the first payment), and repeats of the first, change nothing.
    A card also used by the referrer (by default: as dj-stripe knows their cards) flags the
    referral instead.
    """
    referral = Referral.objects.select_for_update().filter(referred=referred).first()
    if referral is None or referral.status == Referral.Status.REJECTED:
        return None
    if referral.converted_at is None:
        if invoice_paid_before_exists(user=referred, invoice_id=invoice_id):
            return None  # a renewal: the referred user was a customer before the referral
        referral.converted_at = timezone.now()
        referral.first_invoice_id = invoice_id
        referral.first_charge_id = charge_id
        if referrer_card_fingerprints is None:
            referrer_card_fingerprints = card_fingerprints_list_for_user(user=referral.referrer)
        if card_fingerprint and card_fingerprint in referrer_card_fingerprints:
            referral.flag_reasons = [*referral.flag_reasons, "same_card"]
            referral.status = Referral.Status.FLAGGED
        elif referral.status == Referral.Status.SIGNED_UP:
            referral.status = Referral.Status.CONVERTED
        referral.save(
            update_fields=["converted_at", "first_invoice_id", "first_charge_id", "flag_reasons", "status"]
        )
    elif referral.first_invoice_id != invoice_id:
        return None
    return reward_create_for_conversion(referral=referral)


@transaction.atomic
def reward_cancel(*, reward: Reward, note: str) -> Reward:
    """Cancels a pending reward (refund, chargeback or a rejected referral)."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if reward.status != Reward.Status.PENDING:
        raise ConflictError("Only a pending reward can be cancelled.", code="reward_not_pending")
    reward.status = Reward.Status.CANCELLED
    reward.cancelled_at = timezone.now()
    reward.note = note[:200]
    reward.save(update_fields=["status", "cancelled_at", "note"])
    return reward


@transaction.atomic
def reward_revoke(*, reward: Reward, note: str) -> Reward:
    """Takes a reward back: a pending one is cancelled, a granted one is reversed."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if reward.status == Reward.Status.PENDING:
        return reward_cancel(reward=reward, note=note)
    if reward.status == Reward.Status.GRANTED:
        return reward_reverse(reward=reward, note=note)
    raise ConflictError("Only a pending or granted reward can be taken back.", code="reward_not_revocable")


# --- Stripe: the referred user's discount, granting and reversing the referrer's credit ---------


def referral_coupon_ensure() -> str:
    """The id of the referral coupon, created in Stripe on first need (billing's coupon service)."""
    return coupon_ensure(
        coupon_id=settings.REFERRAL_COUPON_ID,
        percent_off=settings.REFERRAL_REFERRED_PERCENT_OFF,
        name="Referral welcome discount",
    )


def referral_checkout_discounts(user: User) -> list[dict[str, Any]]:
    """billing.hooks provider: a referred user's first subscription gets the referral coupon.

    Not for flagged or rejected referrals, nor once the user has subscribed before.
    """
    referral = Referral.objects.filter(referred=user, status=Referral.Status.SIGNED_UP).first()
    if referral is None or referral.converted_at is not None:
        return []
    if subscription_list_for_user(user=user).exists():
        return []
    return [{"coupon": referral_coupon_ensure()}]


@transaction.atomic
def reward_grant(*, reward: Reward, now: datetime | None = None) -> Reward:
    """Grants a pending reward whose hold has passed: a credit on the referrer's Stripe balance.

    Stripe applies a negative customer balance to the next invoice. The call carries an
    idempotency key per reward, so a retry after a failed commit never credits twice. Flagged or
    rejected referrals are skipped (left pending or cancelled by the review).
    """
    now = now or timezone.now()
    reward = Reward.objects.select_for_update().select_related("referral", "beneficiary").get(pk=reward.pk)
    if reward.status != Reward.Status.PENDING:
        return reward
    if reward.hold_until > now:
        raise ConflictError("This reward is still on hold.", code="reward_on_hold")
    referral = Referral.objects.select_for_update().get(pk=reward.referral_id)
    if referral.status in (Referral.Status.FLAGGED, Referral.Status.REJECTED):
        return reward
    credit = balance_credit_grant(
        user=reward.beneficiary,
        amount_cents=reward.amount_cents,
        currency=reward.currency,
        description="Referral reward",
        metadata={"relay_reward_id": str(reward.pk), "relay_referral_id": str(referral.pk)},
        idempotency_key=f"relay-referral-reward-{reward.pk}-grant",
    )
    reward.status = Reward.Status.GRANTED
    reward.granted_at = now
    reward.stripe_customer_id = credit.customer_id
    reward.stripe_balance_transaction_id = credit.transaction_id
    reward.save(update_fields=["status", "granted_at", "stripe_customer_id", "stripe_balance_transaction_id"])
    referral.status = Referral.Status.REWARDED
    referral.save(update_fields=["status"])
    return reward


def rewards_grant_due(*, now: datetime | None = None) -> int:
    """Grants every pending reward whose hold has passed; returns how many were granted.

    One failing grant (Stripe down) does not stop the others; it is retried on the next run.
    """
    now = now or timezone.now()
    granted = 0
    due = Reward.objects.filter(status=Reward.Status.PENDING, hold_until__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        try:
            reward = reward_grant(reward=Reward(pk=pk), now=now)
        except ApplicationError:
            logger.warning("Referral reward %s could not be granted now", pk, exc_info=True)
            continue
        granted += reward.status == Reward.Status.GRANTED
    return granted


@transaction.atomic
def reward_reverse(*, reward: Reward, note: str) -> Reward:
    """Takes back a granted credit: a positive balance transaction of the same amount."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if reward.status != Reward.Status.GRANTED:
        raise ConflictError("Only a granted reward can be reversed.", code="reward_not_granted")
    reversal_id = balance_credit_reverse(
        customer_id=reward.stripe_customer_id,
        amount_cents=reward.amount_cents,
        currency=reward.currency,
        description="Referral reward reversed",
        metadata={"relay_reward_id": str(reward.pk)},
        idempotency_key=f"relay-referral-reward-{reward.pk}-reverse",
    )
    reward.status = Reward.Status.REVERSED
    reward.reversed_at = timezone.now()
    reward.stripe_reversal_transaction_id = reversal_id
    reward.note = note[:200]
    reward.save(update_fields=["status", "reversed_at", "stripe_reversal_transaction_id", "note"])
    Referral.objects.filter(pk=reward.referral_id, status=Referral.Status.REWARDED).update(
        status=Referral.Status.CONVERTED
    )
    return reward


def refund_revokes_reward(*, amount_cents: int, amount_refunded_cents: int) -> bool:
    """The partial-refund policy (docs/billing.md): the credit goes once the refunded total
    reaches REFERRAL_REFUND_REVOKE_PERCENT of the charge; smaller refunds leave it whole."""
    if amount_refunded_cents <= 0:
        return False
    return (
        amount_cents <= 0
        or amount_refunded_cents * 100 >= amount_cents * settings.REFERRAL_REFUND_REVOKE_PERCENT
    )


@transaction.atomic
def rewards_revoke_for_refund(
    *, charge_id: str, amount_cents: int, amount_refunded_cents: int
) -> list[Reward]:
    """A refund of the paying charge (``amount_refunded_cents`` is the running total, as Stripe
    reports it): takes the reward back when ``refund_revokes_reward`` says so."""
    if not refund_revokes_reward(amount_cents=amount_cents, amount_refunded_cents=amount_refunded_cents):
        return []
    return rewards_revoke_for_charge(charge_id=charge_id, note="Payment refunded")


@transaction.atomic
def rewards_revoke_for_charge(*, charge_id: str, note: str) -> list[Reward]:
    """A refund or chargeback of the paying charge: pending rewards are cancelled, granted reversed."""
    if not charge_id:
        return []
    rewards = Reward.objects.filter(
        stripe_charge_id=charge_id, status__in=[Reward.Status.PENDING, Reward.Status.GRANTED]
    )
    return [reward_revoke(reward=reward, note=note) for reward in rewards]
