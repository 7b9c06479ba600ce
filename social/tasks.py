"""Celery tasks of the social app: timeline fan-out. Idempotent, retried with backoff."""

from __future__ import annotations

from celery import shared_task

from social import services

# timeline_trim runs hourly: see CELERY_BEAT_SCHEDULE in config/settings.py.


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_fan_out_post(post_id: int) -> int:
    return services.timeline_fan_out_post_now(post_id=post_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_fan_out_repost(repost_id: int) -> int:
    return services.timeline_fan_out_repost_now(repost_id=repost_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_backfill(owner_id: int, followee_id: int) -> int:
    return services.timeline_backfill_now(owner_id=owner_id, followee_id=followee_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_trim() -> int:
    return services.timeline_trim()
