"""Celery tasks of the webhook intake (``billing.webhook_intake``): drain the inbox, wake a
drain when events are due and none is running, prune old invalid deliveries.

Registered by ``BillingConfig.ready`` (autodiscovery only finds ``billing.tasks``).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing import webhook_intake


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_events_drain() -> int:
    """Runs ``webhook_intake.webhook_events_drain``: processes due events until none is left.
    Published by the endpoint (at most once a second while events arrive), by a failed event's
    back-off and by the sweep; one per worker runs at once during a burst. A failure is recorded
    on the event's row and retried from there, never by Celery; a worker that dies leaves its
    event to the next drain once the claim's lease ends."""
    return webhook_intake.webhook_events_drain()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_event_process(**_kwargs: Any) -> int:
    """The previous version's per-event task: messages still queued at a deploy drain the
    inbox (their event is in it)."""
    return webhook_intake.webhook_events_drain()


@shared_task
def webhook_events_sweep() -> int:
    """Runs ``webhook_intake.webhook_events_sweep`` (every minute, see CELERY_BEAT_SCHEDULE)."""
    return webhook_intake.webhook_events_sweep()


@shared_task
def webhook_invalid_prune() -> int:
    """Runs ``webhook_intake.webhook_invalid_prune`` (daily, see CELERY_BEAT_SCHEDULE)."""
    return webhook_intake.webhook_invalid_prune()
