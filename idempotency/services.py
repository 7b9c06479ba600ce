"""Writes of idempotency records: the key's lock, the stored answer, expiry."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from idempotency.models import IdempotencyRecord


def _lock_id(*, user_id: int, key: str) -> int:
    """A signed 64-bit id for PostgreSQL's advisory lock on (user, key). Two keys that share
    one (2^-64) only make one of them wait for the other: a 409, never a double."""
    digest = hashlib.sha256(f"relay.idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def idempotency_lock_try(*, user_id: int, key: str) -> bool:
    """Takes the lock of the user's ``key`` for the current transaction, without waiting;
    False when another transaction holds it (its request is still running).

    PostgreSQL: an advisory transaction lock, released by the commit or the rollback. SQLite
    (the embedded default) has no such lock, and needs none: the project opens its
    transactions with ``BEGIN IMMEDIATE``, which already holds the one write lock of the
    database, so a second request waits for the first's commit and then finds its record."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_lock_try must be called inside the request's transaction")
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user_id=user_id, key=key)])
        row = cursor.fetchone()
    return bool(row and row[0])


# No savepoint of its own (two round trips on every keyed write): it always runs inside the
# request's transaction, and a failed insert must roll all of that back anyway.
@transaction.atomic(savepoint=False)
def idempotency_record_store(
    *,
    user_id: int,
    key: str,
    method: str,
    path: str,
    body_sha256: str,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> IdempotencyRecord | None:
    """Stores the answer to the user's keyed request, in the request's own transaction (call
    holding the key's lock, after the view). Returns None, storing nothing, when the request
    deleted its own user (the account deletion): there is no one left to replay it to."""
    if not get_user_model().objects.filter(pk=user_id).exists():
        return None
    return IdempotencyRecord.objects.create(
        user_id=user_id,
        key=key,
        method=method,
        path=path,
        body_sha256=body_sha256,
        status=status,
        response_body=body,
        response_headers=headers,
        created_at=timezone.now(),
    )


def idempotency_record_delete(*, record: IdempotencyRecord) -> None:
    """Deletes one (expired) record; call holding its key's lock."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_records_expire(*, now: datetime | None = None) -> int:
    """Deletes the records older than ``IDEMPOTENCY_KEY_TTL_HOURS``; returns how many. Their
    keys may then be used again for new requests."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
