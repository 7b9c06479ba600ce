from __future__ import annotations

from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The transactional e-mail outbox: a platform app below ``accounts`` that imports no
    feature app. Every e-mail the product sends is a row here first (see ``outbox.services``)."""

    name = "outbox"
    verbose_name = "E-mail outbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from outbox import tasks  # noqa: F401  (registers the send and sweep tasks with Celery)
