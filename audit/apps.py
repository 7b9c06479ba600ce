from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The staff audit log: one read-only record of every staff write. A platform app below
    ``accounts`` (it knows users only through ``AUTH_USER_MODEL``), so every app's admin and
    services can record into it."""

    name = "audit"
    verbose_name = "Staff audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from audit import receivers  # noqa: F401  (admin edits and deletes become entries)

        # Bulk deletes write their LogEntry rows with bulk_create, which sends no signal, so they
        # would escape the audit log: staff delete one object at a time, from its own page.
        admin.site.disable_action("delete_selected")
