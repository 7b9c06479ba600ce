from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.lifecycle import register_eraser, register_exporter
        from config.api import schema  # noqa: F401  (registers the OpenAPI API-key scheme)
        from integrations import receivers, tasks  # noqa: F401  (beat schedule)
        from integrations.selectors import api_keys_export_for_user
        from integrations.services import api_keys_erase

        register_exporter("api_keys", lambda user: api_keys_export_for_user(user=user))
        register_eraser("api_keys", lambda user: api_keys_erase(user=user))
        receivers.connect()
