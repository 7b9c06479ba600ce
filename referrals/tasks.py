"""Celery tasks of referrals: granting rewards once their hold has passed (beat, hourly)."""

from __future__ import annotations

from celery import shared_task

from referrals import rewards


@shared_task
def rewards_grant_due() -> int:
    """Runs ``rewards.rewards_grant_due``. No retry of its own: a grant that fails (Stripe down)
    is logged and left pending by the service, and the next hourly run picks it up."""
    return rewards.rewards_grant_due()
