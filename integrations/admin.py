"""Admin for API keys: who has which keys, and a revoke action. Never the secret or its hash."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.auth import request_user
from integrations.models import ApiKey
from integrations.services import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("public_id", "name", "user", "status_display", "created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("public_id", "name", "user__email", "user__handle")
    ordering = ("-created_at",)
    fields = (
        "user",
        "name",
        "public_id",
        "scopes",
        "status_display",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "rotated_from",
        "grace_expires_at",
        "expiry_warning_sent_at",
    )
    readonly_fields = fields
    actions = ("revoke_keys",)

    @admin.display(description="Status")
    def status_display(self, obj: ApiKey) -> str:
        return obj.status_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by their owners; the full key must reach only them

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected API keys", permissions=["view"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for api_key in queryset.select_related("user"):
            if api_key.revoked_at is None:
                api_key_revoke(api_key=api_key, actor=request_user(request), request=request)
                count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)
