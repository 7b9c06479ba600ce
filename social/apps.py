from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import lifecycle
        from accounts.selectors import register_user_hidden_check
        from social.lifecycle import SECTION, social_erase, social_export
        from social.selectors import is_blocked_between

        lifecycle.register_exporter(SECTION, social_export)
        lifecycle.register_eraser(SECTION, social_erase)
        # accounts' /api/v1/users/<handle>/ hides a user across a block, as social's routes do.
        register_user_hidden_check(
            "social.block", lambda viewer_id, user_id: is_blocked_between(a_id=viewer_id, b_id=user_id)
        )
