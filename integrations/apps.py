from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.lifecycle import register_eraser, register_exporter
        from config.api import schema  # noqa: F401  (registers the OpenAPI API-key scheme)
        from integrations import lifecycle, receivers, tasks  # noqa: F401  (beat schedule)

        # The export's section keeps its name, "api_keys": downloaded files stay comparable.
        register_exporter("api_keys", lifecycle.integrations_export)
        register_eraser("api_keys", lifecycle.integrations_erase)
        receivers.connect()
