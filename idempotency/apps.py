from __future__ import annotations

from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    """``Idempotency-Key`` on the API's writes (``idempotency.middleware``): a platform app just
    above ``config`` that imports no feature app (the user is named by ``AUTH_USER_MODEL``)."""

    name = "idempotency"
    verbose_name = "API idempotency keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from idempotency import tasks  # noqa: F401  (registers the expiry task with Celery)
