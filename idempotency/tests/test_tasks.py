"""Expiry: the beat task deletes records older than IDEMPOTENCY_KEY_TTL_HOURS, and only those."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from idempotency.models import IdempotencyRecord
from idempotency.tasks import idempotency_records_expire

pytestmark = pytest.mark.django_db


def record(user, key: str, *, age: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        method="POST",
        path="/api/v1/posts/",
        body_sha256="0" * 64,
        status=201,
        response_body=b"{}",
        response_headers={"Content-Type": "application/json"},
        created_at=timezone.now() - age,
    )


def test_the_expiry_task_deletes_old_keys_only(user, other_user):
    ttl = timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    record(user, "old", age=ttl + timedelta(minutes=1))
    record(other_user, "old", age=ttl * 3)
    record(user, "young", age=ttl - timedelta(minutes=1))
    record(other_user, "new", age=timedelta(0))

    assert idempotency_records_expire.delay().get() == 2
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new", "young"]


def test_the_expiry_follows_the_setting(user, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 1
    record(user, "two-hours", age=timedelta(hours=2))
    record(user, "half-hour", age=timedelta(minutes=30))
    assert idempotency_records_expire.delay().get() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["half-hour"]


def test_beat_runs_the_expiry_task():
    assert settings.CELERY_BEAT_SCHEDULE["idempotency-records-expire"]["task"] == (
        "idempotency.tasks.idempotency_records_expire"
    )
