"""The moderation queue: staff work reports here; every action goes through social.moderation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.auth import request_user
from accounts.models import User
from config.admin import ReadOnlyAdminMixin
from config.errors import ApplicationError
from social import moderation, services
from social.models import ModerationAction, Post, Report

_TEXT_FIELDS = ("text", "content_warning")


class ModerationActionInline(admin.TabularInline):
    model = ModerationAction
    fields = ("created_at", "kind", "moderator", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _staff(request: HttpRequest) -> User:
    return request_user(request)  # the admin only lets signed-in staff in


def _reported_user(report: Report) -> User:
    if report.target_user is None:
        raise ApplicationError(f"The account @{report.target_handle} no longer exists.")
    return report.target_user


def _each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Report], action: Any, done: str
) -> None:
    count = 0
    for report in queryset.select_related("post", "target_user"):
        try:
            action(report)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"Report {report.pk}: {exc.message}", messages.ERROR)
        else:
            count += 1
    modeladmin.message_user(request, f"{done}: {count} report(s).", messages.SUCCESS)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "status", "reason", "target_handle", "reporter", "post_excerpt")
    list_filter = ("status", "reason")
    search_fields = ("target_handle", "reporter__handle", "comment", "post__text")
    ordering = ("status", "created_at")
    readonly_fields = (
        "reporter",
        "target_user",
        "target_handle",
        "post",
        "post_text",
        "reason",
        "comment",
        "created_at",
        "closed_at",
    )
    fields = ("status", *readonly_fields)
    inlines = [ModerationActionInline]
    actions = ["hide_content", "warn_user", "suspend_user", "resolve", "dismiss"]
    list_select_related = ("target_user", "reporter", "post")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Status changes only through the actions, so each one is recorded.
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="Post")
    def post_excerpt(self, obj: Report) -> str:
        return obj.post.text[:60] if obj.post else "—"

    @admin.display(description="Post text")
    def post_text(self, obj: Report) -> str:
        return obj.post.text if obj.post else "—"

    @admin.action(description="Hide the reported post or reply (and resolve)")
    def hide_content(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        def act(report: Report) -> None:
            if report.post is None:
                raise ApplicationError("This report is about a user, not a post.")
            moderation.moderation_hide_post(moderator=_staff(request), post=report.post, report=report)

        _each(self, request, queryset, act, "Hidden")

    @admin.action(description="Warn the reported user by e-mail (and resolve)")
    def warn_user(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda r: moderation.moderation_warn_user(
                moderator=_staff(request), user=_reported_user(r), report=r
            ),
            "Warned",
        )

    @admin.action(description="Suspend the reported user (and resolve)")
    def suspend_user(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda r: moderation.moderation_suspend_user(
                moderator=_staff(request), user=_reported_user(r), report=r
            ),
            "Suspended",
        )

    @admin.action(description="Resolve")
    def resolve(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda r: moderation.moderation_resolve(moderator=_staff(request), report=r),
            "Resolved",
        )

    @admin.action(description="Dismiss")
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _each(
            self,
            request,
            queryset,
            lambda r: moderation.moderation_dismiss(moderator=_staff(request), report=r),
            "Dismissed",
        )


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "moderator", "target_handle", "report", "post")
    list_filter = ("kind",)
    search_fields = ("target_handle", "moderator__handle", "note")
    list_select_related = ("moderator", "target_user", "report", "post")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "created_at", "visibility", "excerpt", "deleted_at", "hidden_at")
    list_filter = ("visibility",)
    search_fields = ("author__handle", "text")
    list_select_related = ("author",)
    raw_id_fields = ("author", "reply_to", "root")
    readonly_fields = ("html", "like_count", "reply_count", "repost_count", "hidden_at", "deleted_at")
    actions = ["hide"]

    @admin.display(description="Text")
    def excerpt(self, obj: Post) -> str:
        return obj.text[:60]

    def save_model(self, request: HttpRequest, obj: Post, form: forms.ModelForm, change: bool) -> None:
        """A change of text or content warning goes through the author's edit service
        (history, mentions, hashtags, HTML); other fields are saved as they are."""
        edited = [name for name in form.changed_data if name in _TEXT_FIELDS]
        if not (change and edited):
            super().save_model(request, obj, form, change)
            return
        others = [name for name in form.changed_data if name not in _TEXT_FIELDS]
        if others:
            obj.save(update_fields=others)
        try:
            services.post_edit_by_staff(
                moderator=_staff(request), post_id=obj.pk, text=obj.text, content_warning=obj.content_warning
            )
        except ApplicationError as exc:
            self.message_user(request, f"The text was not changed: {exc.message}", messages.ERROR)
        obj.refresh_from_db()

    @admin.action(description="Hide selected posts")
    def hide(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset.select_related("author"):
            moderation.moderation_hide_post(moderator=_staff(request), post=post)
        self.message_user(request, "Hidden.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
