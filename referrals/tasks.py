"""Celery tasks of referrals: granting rewards once their hold has passed (beat, hourly)."""

from __future__ import annotations

from celery import shared_task

from billing.stripe_client import BillingUnavailableError
from referrals.rewards import rewards_grant_due


@shared_task(
    autoretry_for=(BillingUnavailableError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def referral_rewards_grant_due() -> int:
    """Grants every due reward. Idempotent: granted rewards are skipped, Stripe calls are keyed."""
    return rewards_grant_due()
