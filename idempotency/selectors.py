"""Reads of stored idempotency records."""

from __future__ import annotations

from idempotency.models import IdempotencyRecord


def idempotency_record_get(*, user_id: int, key: str) -> IdempotencyRecord | None:
    """The user's record for ``key``, expired or not (the caller decides; see the middleware).
    Call holding the key's lock (``services.idempotency_lock_try``)."""
    return IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
