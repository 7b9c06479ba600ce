from __future__ import annotations

from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at module level: models and other apps are loaded only once ready() runs.
        from accounts import lifecycle
        from social import receivers
        from social.lifecycle import SECTION, social_erase, social_export

        lifecycle.register_exporter(SECTION, lambda user: social_export(user=user))
        lifecycle.register_eraser(SECTION, lambda user: social_erase(user=user))
        receivers.connect()
