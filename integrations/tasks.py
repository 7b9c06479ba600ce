"""Celery tasks of the integrations app."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from billing import customers
from billing.selectors import user_list_without_customer
from billing.stripe_client import BillingUnavailableError
from integrations import services

# Both run periodically: see CELERY_BEAT_SCHEDULE in config/settings.py.


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def api_key_expiry_warnings_send() -> int:
    """Hourly: e-mails each owner once, 7 days before a key expires. Safe to run twice."""
    return services.api_key_expiry_warnings_send()


@shared_task(bind=True, acks_late=True)
def stripe_customer_sync(self: Task, *, user_id: int) -> str | None:
    """Creates the user's Stripe customer or updates its e-mail; retries with exponential
    backoff (up to 10 minutes apart, ``STRIPE_CUSTOMER_SYNC_MAX_RETRIES`` times) while Stripe is
    unreachable. Idempotent, so a retry after a lost response changes nothing twice."""
    try:
        return customers.stripe_customer_sync(user_id=user_id).customer_id
    except BillingUnavailableError as exc:
        countdown = min(600, 2 ** (self.request.retries + 1))
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=settings.STRIPE_CUSTOMER_SYNC_MAX_RETRIES
        ) from exc


@shared_task
def stripe_customers_backfill() -> int:
    """Daily safety net: queues a sync for every verified user still without a customer."""
    user_ids = list(user_list_without_customer().values_list("pk", flat=True)[:5000])
    for user_id in user_ids:
        stripe_customer_sync.delay(user_id=user_id)
    return len(user_ids)
