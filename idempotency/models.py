"""The stored answer to one keyed API write (see ``idempotency.middleware``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one user and the answer its request got.

    Written in the same transaction as the request's own effects, so a row exists exactly when
    those effects committed. Rows older than ``IDEMPOTENCY_KEY_TTL_HOURS`` are deleted by the
    beat task ``idempotency.tasks.idempotency_records_expire`` (and never replayed before that).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()  # with the query string: another query is another request
    body_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    response_headers = models.JSONField(default=dict)  # the few that matter, see middleware.KEPT_HEADERS
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_record_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_record_created")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.status})"
