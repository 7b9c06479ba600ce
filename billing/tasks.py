"""Celery tasks of billing: outbound Stripe calls that must not hold up a request."""

from __future__ import annotations

import logging
from contextlib import suppress

import stripe
from celery import shared_task

from billing.dunning import dunning_notices_send as dunning_notices_queue
from billing.reconcile import reconcile
from billing.stripe_client import configure

logger = logging.getLogger(__name__)

# billing_reconcile runs daily: see CELERY_BEAT_SCHEDULE in config/settings.py.


@shared_task(
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def customer_erase_remote(*, customer_id: str, subscription_ids: list[str]) -> None:
    """Cancels the deleted user's subscriptions now and blanks the customer's personal data in Stripe.

    Idempotent: a subscription already canceled or a customer already gone is skipped.
    """
    configure()
    for subscription_id in subscription_ids:
        with suppress(stripe.InvalidRequestError):  # already canceled or gone
            stripe.Subscription.cancel(subscription_id)
    with suppress(stripe.InvalidRequestError):  # deleted in Stripe already
        stripe.Customer.modify(
            customer_id,
            email="",
            name="",
            phone="",
            description="",
            metadata={"djstripe_subscriber": "", "handle": ""},
        )


@shared_task(
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def billing_reconcile() -> int:
    """Daily: re-syncs customers, subscriptions and invoices from Stripe (for missed webhooks).

    Safe to run twice: a second run finds nothing to fix. Returns the number of differences.
    """
    report = reconcile()
    for line in report.fixed:
        logger.warning("billing reconcile fixed: %s", line)
    for line in report.gone:
        logger.error("billing reconcile: %s", line)
    return len(report.fixed)


@shared_task
def dunning_notices_send() -> int:
    """Hourly: the dunning reminders and final notices now due (``billing.dunning``)."""
    return dunning_notices_queue()
