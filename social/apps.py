from __future__ import annotations

from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at module level: models and other apps are loaded only once ready() runs.
        from accounts import lifecycle
        from accounts.selectors import register_user_hidden_check
        from social import receivers
        from social.lifecycle import SECTION, social_erase, social_export
        from social.selectors.visibility import block_exists_between

        lifecycle.register_exporter(SECTION, social_export)
        lifecycle.register_eraser(SECTION, social_erase)
        # accounts' /api/v1/users/<handle>/ hides a user across a block, as social's routes do.
        register_user_hidden_check(
            "social.block", lambda viewer_id, user_id: block_exists_between(a_id=viewer_id, b_id=user_id)
        )
        receivers.connect()
