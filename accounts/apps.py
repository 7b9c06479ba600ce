from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's "account" app is already called "Accounts" in the admin: two sections of that name.
    verbose_name = "Accounts: users and security"  # sorts next to allauth's section
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: both need the app registry ready (they import models).
        from django.db.models.signals import post_migrate

        from accounts import lifecycle, receivers
        from accounts.roles import roles_ensure

        receivers.connect()
        # After every migrate (and a test's database flush), once (for this app): the role groups exist.
        post_migrate.connect(roles_ensure, sender=self, dispatch_uid="accounts_roles_ensure")
        lifecycle.register_exporter(lifecycle.ACCOUNTS_SECTION, lifecycle.accounts_export)
        lifecycle.register_eraser(lifecycle.ACCOUNTS_SECTION, lifecycle.accounts_erase)
