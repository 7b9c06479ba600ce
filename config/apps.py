"""The platform as a Django app: its start-up hooks."""

from __future__ import annotations

from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "config"
    label = "platform"
    verbose_name = "Platform"

    def ready(self) -> None:
        from config.api.fields import (  # needs the app registry (DRF)
            refuse_non_string_text,
            refuse_over_long_raw_text,
        )

        refuse_non_string_text()
        refuse_over_long_raw_text()
