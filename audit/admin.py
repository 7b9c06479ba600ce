"""The audit log in the admin: searchable, filterable, and read-only for everyone."""

from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEntry
from config.admin import ReadOnlyAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "kind", "action", "target_label", "object_repr", "reason")
    list_filter = ("kind", "created_at")
    search_fields = ("actor_label", "target_label", "action", "object_repr", "reason")
    list_select_related = ()
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
