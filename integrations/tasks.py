"""Celery tasks of the integrations app."""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from integrations.services import api_key_expiry_warning_send, api_keys_expiring_soon

settings.CELERY_BEAT_SCHEDULE.setdefault(
    "integrations-api-key-expiry-warnings",
    {"task": "integrations.tasks.api_key_expiry_warnings_send", "schedule": crontab(minute=15)},
)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def api_key_expiry_warnings_send() -> int:
    """Hourly: e-mails each owner once, 7 days before a key expires. Safe to run twice."""
    sent = 0
    for api_key in api_keys_expiring_soon():
        sent += api_key_expiry_warning_send(api_key=api_key)
    return sent
