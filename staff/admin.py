"""The user 360 page in the admin: a read-only proxy of the user whose change page shows every
part of one account on one page, with the staff actions as buttons."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from staff.impersonation import impersonation_refusal
from staff.models import UserOverview
from staff.selectors import user_overview


@admin.register(UserOverview)
class UserOverviewAdmin(admin.ModelAdmin):
    list_display = ("handle", "email", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "handle")
    ordering = ("-date_joined",)
    show_full_result_count = False  # no COUNT(*) of a million users per page

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        return user.has_perm("staff.view_useroverview") or user.has_perm("accounts.view_user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserOverview]:
        return super().get_queryset(request).only(*self.list_display, "id")

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The object's page is the 360 page, not a form (there is no add page)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not object_id or not object_id.isdigit():
            raise Http404("No such user.")
        person = get_object_or_404(UserOverview, pk=object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"@{person.handle}",
            "subtitle": "User 360",
            "opts": self.opts,
            "person": person,
            "overview": user_overview(user=person),
            "can_impersonate": not impersonation_refusal(hijacker=request.user, hijacked=person),
            "can_view_user": request.user.has_perm("accounts.view_user"),
            "can_change_user": request.user.has_perm("accounts.change_user"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/staff/user_360.html", context)
