"""The admin app, with the project's own site (``config.admin_site.RelayAdminSite``) as
``django.contrib.admin.site``: every ``admin.register`` in the apps registers on it."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class RelayAdminConfig(AdminConfig):
    default_site = "config.admin_site.RelayAdminSite"
