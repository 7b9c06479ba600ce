"""What referrals contributes to a data export and to account deletion (registered in
``ReferralsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from referrals.models import Click, Referral, ReferralCode, Reward, UserSignal
from referrals.selectors import mask_email


def referrals_export(*, user: User) -> dict[str, Any]:
    """The user's code, who referred them, whom they referred (masked) and their rewards."""
    code = ReferralCode.objects.filter(user=user).values_list("code", flat=True).first()
    received = Referral.objects.filter(referred=user).select_related("referrer").first()
    return {
        "code": code,
        "referred_by": f"@{received.referrer.handle}" if received else None,
        "referrals": [
            {
                "user": mask_email(r.referred.email) if r.referred else None,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
            }
            for r in Referral.objects.filter(referrer=user).select_related("referred").order_by("created_at")
        ],
        "rewards": [
            {
                "status": w.status,
                "amount_cents": w.amount_cents,
                "currency": w.currency,
                "created_at": w.created_at.isoformat(),
            }
            for w in Reward.objects.filter(beneficiary=user).order_by("created_at")
        ],
        "link_clicks": Click.objects.filter(referrer=user).count(),
    }


def referrals_erase(*, user: User) -> None:
    """Removes the user's code, clicks, hashed signals and referral rows.

    Referrals where the user was the referrer go too (with their ledger lines): the Stripe
    balance transactions remain on Stripe's side as the financial record. Where the user was
    the one referred, the row stays for the referrer's ledger but no longer points at them.
    """
    Reward.objects.filter(beneficiary=user).delete()
    Referral.objects.filter(referrer=user).delete()
    # The referrer keeps the referral and its rewards, without anything about this user.
    Referral.objects.filter(referred=user).update(referred=None, signup_ip_hash="", device_hash="")
    Click.objects.filter(referrer=user).delete()
    UserSignal.objects.filter(user=user).delete()
    ReferralCode.objects.filter(user=user).delete()
