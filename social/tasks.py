"""Celery tasks of the social app: each has the name of the ``social.feeds.fanout``,
``social.services.media`` or ``social.notification_emails`` service it runs and only calls it.
Idempotent, retried with backoff. A fan-out task also queues the chunk tasks its service hands
back (``FanOut.chunks``); those run on the ``fanout`` queue (``config/celery.py``).

``timeline_trim`` runs hourly and ``notification_digests_send_due`` every minute: see
CELERY_BEAT_SCHEDULE in config/settings.py.
"""

from __future__ import annotations

from celery import shared_task

from social import notification_emails
from social.feeds import fanout
from social.services import media


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_fan_out_post(post_id: int) -> int:
    fan_out = fanout.timeline_fan_out_post(post_id=post_id)
    for after, upto in fan_out.chunks:
        timeline_push_post_chunk.delay(post_id, after, upto)
    return fan_out.written


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_push_post_chunk(post_id: int, after: int, upto: int | None) -> int:
    return fanout.timeline_push_post_chunk(post_id=post_id, after=after, upto=upto)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_fan_out_repost(repost_id: int) -> int:
    fan_out = fanout.timeline_fan_out_repost(repost_id=repost_id)
    for after, upto in fan_out.chunks:
        timeline_push_repost_chunk.delay(repost_id, after, upto)
    return fan_out.written


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_push_repost_chunk(repost_id: int, after: int, upto: int | None) -> int:
    return fanout.timeline_push_repost_chunk(repost_id=repost_id, after=after, upto=upto)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_backfill(owner_id: int, followee_id: int) -> int:
    return fanout.timeline_backfill(owner_id=owner_id, followee_id=followee_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def timeline_trim() -> int:
    return fanout.timeline_trim()


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def post_images_withdraw(post_id: int) -> int:
    return media.post_images_withdraw(post_id=post_id)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_kwargs={"max_retries": 5})
def notification_emails_send(user_id: int) -> int:
    return notification_emails.notification_emails_send(user_id=user_id)


@shared_task
def notification_digests_send_due() -> int:
    return notification_emails.notification_digests_send_due()
