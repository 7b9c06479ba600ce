from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import lifecycle
        from social.lifecycle import SECTION, social_erase, social_export

        lifecycle.register_exporter(SECTION, social_export)
        lifecycle.register_eraser(SECTION, social_erase)
