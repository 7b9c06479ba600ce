from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's "account" app is already called "Accounts" in the admin: two sections of that name.
    verbose_name = "Accounts: users and security"  # sorts next to allauth's section
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: both need the app registry ready (they import models).
        from accounts import lifecycle, receivers

        receivers.connect()
        lifecycle.register_exporter(lifecycle.ACCOUNTS_SECTION, lifecycle.accounts_export)
        lifecycle.register_eraser(lifecycle.ACCOUNTS_SECTION, lifecycle.accounts_erase)
