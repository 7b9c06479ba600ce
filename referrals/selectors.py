"""Reads for referrals, scoped to the acting user."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import User
from billing.selectors import invoice_list_for_user
from referrals.models import Click, Referral, Reward


@dataclass(frozen=True)
class ReferralStats:
    clicks: int
    signups: int
    conversions: int
    credit_earned_cents: int
    credit_pending_cents: int


def format_money(cents: int, currency: str = "usd") -> str:
    """``1250, "usd"`` → ``12.50 USD``."""
    return f"{cents / 100:.2f} {currency.upper()}"


def mask_email(email: str) -> str:
    """``alice@example.com`` → ``al***@e***.com``: enough to recognise a friend, not to write to them."""
    local, _, domain = email.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    masked_domain = f"{name[:1]}***" + (f".{tld}" if tld else "")
    return f"{local[:2]}***@{masked_domain}"


def referral_list_for_referrer(*, user: User) -> QuerySet[Referral]:
    """The users this user referred, newest first (the referred user is joined)."""
    return Referral.objects.filter(referrer=user).select_related("referred").order_by("-created_at", "-id")


def reward_list_for_user(*, user: User) -> QuerySet[Reward]:
    """The user's rewards ledger, newest first (the referral and its referred user are joined)."""
    return (
        Reward.objects.filter(beneficiary=user)
        .select_related("referral__referred")
        .order_by("-created_at", "-id")
    )


def referral_get_for_referred(*, user: User) -> Referral | None:
    """Who referred this user, if anyone."""
    return Referral.objects.filter(referred=user).select_related("referrer").first()


def referral_stats_get_for_user(*, user: User) -> ReferralStats:
    """Clicks on the user's link, sign-ups, conversions and credit (in three queries)."""
    clicks = Click.objects.filter(referrer=user).count()
    counts = Referral.objects.filter(referrer=user).aggregate(
        signups=Count("id", filter=~Q(status=Referral.Status.REJECTED)),
        conversions=Count("id", filter=Q(converted_at__isnull=False) & ~Q(status=Referral.Status.REJECTED)),
    )
    credit = Reward.objects.filter(beneficiary=user).aggregate(
        earned=Sum("amount_cents", filter=Q(status=Reward.Status.GRANTED)),
        pending=Sum("amount_cents", filter=Q(status=Reward.Status.PENDING)),
    )
    return ReferralStats(
        clicks=clicks,
        signups=counts["signups"] or 0,
        conversions=counts["conversions"] or 0,
        credit_earned_cents=credit["earned"] or 0,
        credit_pending_cents=credit["pending"] or 0,
    )


def referral_chain_contains(*, start: User, user: User) -> bool:
    """Whether ``user`` is ``start``'s referrer, or their referrer's, and so on up the chain
    (one recursive query; UNION stops on any loop already in the data)."""
    table = Referral._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE ancestors(user_id) AS (
                SELECT referrer_id FROM {table} WHERE referred_id = %s
                UNION
                SELECT r.referrer_id FROM {table} r JOIN ancestors a ON r.referred_id = a.user_id
            )
            SELECT EXISTS (SELECT 1 FROM ancestors WHERE user_id = %s)
            """,  # noqa: S608 - the table name is the model's, the values are parameters
            [start.pk, user.pk],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def invoice_paid_before_exists(*, user: User, invoice_id: str = "") -> bool:
    """Whether ``user`` has a paid invoice (more than zero paid) other than ``invoice_id`` and
    created before it; with no ``invoice_id``, whether they have any paid invoice at all.

    Read from dj-stripe's synced rows, which hold every invoice before its ``invoice.paid``
    handler runs (webhooks.py).
    """
    paid = (
        invoice_list_for_user(user=user)
        .filter(stripe_data__status="paid", stripe_data__amount_paid__gt=0)
        .exclude(id=invoice_id)
    )
    this = invoice_list_for_user(user=user).filter(id=invoice_id).values_list("created", flat=True).first()
    if this is not None:
        paid = paid.filter(created__lt=this)
    return paid.exists()
