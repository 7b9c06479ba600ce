"""Celery tasks of the webhook intake (``billing.webhook_intake``): process one stored event,
sweep up events whose task was lost, prune old invalid deliveries.

Registered by ``BillingConfig.ready`` (autodiscovery only finds ``billing.tasks``).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from billing import webhook_intake

MAX_RETRIES = 8  # 5 s, 10 s, 20 s ... capped at 10 min: about half an hour of Stripe trouble
BACKOFF_FACTOR = 5
BACKOFF_MAX = 600


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def webhook_event_process(self: Any, *, inbox_id: int) -> None:
    """Runs ``webhook_intake.webhook_event_process``; a failure is recorded on the stored row and
    retried with exponential back-off and full jitter. Acknowledged only once done, and put back
    on the queue if the worker dies mid-event (the sweep is the second net)."""
    try:
        webhook_intake.webhook_event_process(inbox_id=inbox_id)
    except Exception as exc:
        if self.request.is_eager:
            # Run inline (tests, or the broker down) a retry would run at once, inside the
            # request: the row stays pending and the sweep tries it again later.
            retry_in: float | None = BACKOFF_MAX
        elif self.request.retries >= self.max_retries:
            retry_in = None  # failed: the admin's reprocess action takes it from here
        else:
            retry_in = get_exponential_backoff_interval(
                BACKOFF_FACTOR, self.request.retries, BACKOFF_MAX, full_jitter=True
            )
        webhook_intake.webhook_event_failure_record(inbox_id=inbox_id, error=exc, retry_in=retry_in)
        if retry_in is not None and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=retry_in) from exc


@shared_task
def webhook_events_sweep() -> int:
    """Runs ``webhook_intake.webhook_events_sweep`` (every minute, see CELERY_BEAT_SCHEDULE)."""
    return webhook_intake.webhook_events_sweep()


@shared_task
def webhook_invalid_prune() -> int:
    """Runs ``webhook_intake.webhook_invalid_prune`` (daily, see CELERY_BEAT_SCHEDULE)."""
    return webhook_intake.webhook_invalid_prune()
