"""Celery tasks of the idempotency app."""

from __future__ import annotations

from celery import shared_task

from idempotency import services


@shared_task
def idempotency_records_expire() -> int:
    """Beat, hourly: runs ``services.idempotency_records_expire``."""
    return services.idempotency_records_expire()
