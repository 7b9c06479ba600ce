from __future__ import annotations

from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The staff panel, inside the Django admin: the dashboard, the one-page view of a user,
    impersonation for support and the staff roles. The top layer: it reads every app."""

    name = "staff"
    verbose_name = "Staff"
    default_auto_field = "django.db.models.BigAutoField"
