from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's "account" app is already called "Accounts" in the admin: two sections of that name.
    verbose_name = "Accounts: users and security"  # sorts next to allauth's section
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import receivers

        receivers.connect()

        # Profiles, data export and account deletion (accounts.services.profile, accounts.services.account).
        from django.db.models.signals import post_save

        from accounts import lifecycle
        from accounts.models import User
        from accounts.services.account import ACCOUNTS_SECTION, accounts_erase, accounts_export
        from accounts.services.profile import on_user_saved

        post_save.connect(on_user_saved, sender=User, dispatch_uid="accounts.profile_ensure")
        lifecycle.register_exporter(ACCOUNTS_SECTION, accounts_export)
        lifecycle.register_eraser(ACCOUNTS_SECTION, accounts_erase)
