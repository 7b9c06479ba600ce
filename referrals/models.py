"""Referral codes, link clicks, referrals (who brought whom) and the rewards ledger.

No raw IP address is stored anywhere in this app: only keyed hashes (see ``referrals.hashing``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User


class ReferralCode(models.Model):
    """A user's own referral code. Stored upper-case; matched case-insensitively."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="referral_code"
    )
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One visit of a referral link. ``ip_hash`` and ``device_hash`` are keyed hashes."""

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_clicks"
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    device_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["referrer", "-created_at"], name="referrals_click_referrer")]

    def __str__(self) -> str:
        return f"Click for {self.referrer_id} at {self.created_at:%Y-%m-%d %H:%M}"


class UserSignal(models.Model):
    """Where a user was seen (hashed): compared with a referred user's to spot self-referrals."""

    class Kind(models.TextChoices):
        SIGNUP_IP = "signup_ip", "Sign-up IP"
        SEEN_IP = "seen_ip", "Sign-in or visit IP"
        DEVICE = "device", "Device"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_signals"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "value_hash"], name="referrals_signal_unique"),
        ]
        indexes = [models.Index(fields=["kind", "value_hash", "created_at"], name="referrals_signal_lookup")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id}"


class Referral(models.Model):
    """``referrer`` brought ``referred``. One per referred user, fixed once set."""

    class Status(models.TextChoices):
        SIGNED_UP = "signed_up", "Signed up"
        CONVERTED = "converted", "Converted"
        REWARDED = "rewarded", "Rewarded"
        FLAGGED = "flagged", "Flagged for review"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        LINK = "link", "Referral link"
        TYPED = "typed", "Code typed at sign-up"
        APPLIED = "applied", "Code applied after sign-up"

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referrals_made"
    )
    # Null once the referred user deleted their account: the referrer keeps their ledger.
    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="referral_received"
    )
    code = models.CharField(max_length=16)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SIGNED_UP)
    flag_reasons = models.JSONField(default=list, blank=True)
    signup_ip_hash = models.CharField(max_length=64, blank=True)
    device_hash = models.CharField(max_length=64, blank=True)
    # Set when the referred user's first invoice is paid (even while flagged, so an approval
    # can still create the reward).
    converted_at = models.DateTimeField(null=True, blank=True)
    first_invoice_id = models.CharField(max_length=255, blank=True)
    first_charge_id = models.CharField(max_length=255, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(referrer=models.F("referred")), name="referrals_no_self_referral"
            ),
        ]
        indexes = [
            models.Index(fields=["referrer", "-created_at"], name="referrals_ref_referrer"),
            models.Index(fields=["status"], name="referrals_ref_status"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id} ({self.status})"


class Reward(models.Model):
    """One line of the rewards ledger: account credit for the referrer of a paying user."""

    class Kind(models.TextChoices):
        REFERRER_CREDIT = "referrer_credit", "Credit for the referrer"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (held)"
        GRANTED = "granted", "Granted"
        CANCELLED = "cancelled", "Cancelled"
        REVERSED = "reversed", "Reversed"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="rewards")
    beneficiary = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_rewards"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.REFERRER_CREDIT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="usd")
    hold_until = models.DateTimeField()
    stripe_invoice_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_balance_transaction_id = models.CharField(max_length=255, blank=True)
    stripe_reversal_transaction_id = models.CharField(max_length=255, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    granted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Exactly one reward of each kind per referral, whatever the webhooks do.
            models.UniqueConstraint(fields=["referral", "kind"], name="referrals_reward_once_per_referral"),
        ]
        indexes = [
            models.Index(fields=["beneficiary", "-created_at"], name="referrals_reward_benef"),
            models.Index(fields=["status", "hold_until"], name="referrals_reward_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_display} ({self.status})"

    @property
    def amount_display(self) -> str:
        return f"{self.amount_cents / 100:.2f} {self.currency.upper()}"


class TopReferrer(User):
    """Users as the admin's "top referrers" list sees them (a proxy: no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "top referrer"
        verbose_name_plural = "top referrers"
