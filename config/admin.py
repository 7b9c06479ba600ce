"""Admin pieces every app's admin shares."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """A record staff may look at and never add, change or delete from the admin: a history
    (moderation actions, e-mails sent), a derived view (top referrers) or a row whose writes go
    through a service's own action. Put it before ``admin.ModelAdmin`` in the bases."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
