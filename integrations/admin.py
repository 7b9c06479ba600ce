"""Admin for API keys: who has which keys, and revoke actions (selected keys, or every key of the
selected users from the user list). Never the secret or its hash."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.auth import request_user
from accounts.models import User
from accounts.roles import REVOKE_KEYS_PERMISSION
from config.admin import ReasonActionForm, staff_action_run
from integrations.models import ApiKey
from integrations.services import api_key_revoke_by_staff, api_keys_revoke_all_by_staff


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
    action_form = ReasonActionForm
    actions = ("revoke_keys",)

    @admin.display(description="Status")
    def status_display(self, obj: ApiKey) -> str:
        return obj.status_label

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by their owners; the full key must reach only them

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(REVOKE_KEYS_PERMISSION)

    @admin.action(description="Revoke the selected API keys (e-mailed)", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = request_user(request)

        def revoke(api_key: ApiKey, reason: str) -> None:
            api_key_revoke_by_staff(api_key=api_key, actor=actor, reason=reason, request=request)

        staff_action_run(self, request, queryset.select_related("user"), revoke, done="Revoked API keys")


@admin.action(description="Revoke all API keys (e-mailed)", permissions=["revoke_keys"])
def revoke_all_api_keys(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    actor = request_user(request)
    staff_action_run(
        modeladmin,
        request,
        queryset,
        lambda user, reason: api_keys_revoke_all_by_staff(user=user, actor=actor, reason=reason),
        done="API keys revoked for users",
    )


# The user list offers it next to the account actions (accounts cannot import this app).
_user_admin = admin.site.get_model_admin(User)
_user_admin.actions = (*(_user_admin.actions or ()), revoke_all_api_keys)
