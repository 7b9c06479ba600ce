"""Celery tasks of the outbox: the send (queued on commit) and the sweep (beat, every minute)."""

from __future__ import annotations

from celery import Task, shared_task

from outbox import delivery


@shared_task(bind=True, acks_late=True, max_retries=None)
def email_send(self: Task, *, email_id: int) -> bool:
    """Sends one outbox row; after a failure, retries with the row's exponential back-off.

    Running inline (``CELERY_TASK_ALWAYS_EAGER``), a retry would run at once, inside the request
    that queued it: the sweep makes that attempt later instead. The row's attempt count, not
    Celery's, decides when to give up."""
    outcome = delivery.email_send(email_id=email_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.sent


@shared_task
def email_send_due() -> int:
    """Beat, every minute: sends the pending e-mails whose task was lost (see the service)."""
    return delivery.email_send_due()
