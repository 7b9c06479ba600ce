"""The moderation queue: staff work reports here (from the list or with the buttons on a
report's own page); every action goes through social.moderation, with a note. Follows, blocks,
mutes and notifications are browsable read-only, for abuse investigations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from accounts.auth import request_user
from accounts.models import User
from accounts.roles import SUSPEND_PERMISSION
from config.admin import ChangePageContextMixin, ReadOnlyAdminMixin, ReasonActionForm, staff_action_run
from config.errors import ApplicationError
from social import moderation, services
from social.models import Block, Follow, FollowRequest, ModerationAction, Mute, Notification, Post, Report
from social.selectors.moderation import strikes_subquery, user_strike_count

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


def _reported_post(report: Report) -> Post:
    if report.post is None:
        raise ApplicationError("This report is about a user, not a post.")
    return report.post


# Each moderation a report offers: (button label, the permission method it needs, what it does).
ReportAct = Callable[[Report, User, str], None]
REPORT_ACTIONS: dict[str, tuple[str, str, ReportAct]] = {
    "hide_content": (
        "Hide the post",
        "change",
        lambda r, m, note: moderation.moderation_hide_post(
            moderator=m, post=_reported_post(r), report=r, note=note
        ),
    ),
    "warn_user": (
        "Warn the author",
        "change",
        lambda r, m, note: moderation.moderation_warn_user(
            moderator=m, user=_reported_user(r), report=r, note=note
        ),
    ),
    "suspend_user": (
        "Suspend the author",
        "suspend",
        lambda r, m, note: moderation.moderation_suspend_user(
            moderator=m, user=_reported_user(r), report=r, note=note
        ),
    ),
    "resolve": (
        "Resolve",
        "change",
        lambda r, m, note: moderation.moderation_resolve(moderator=m, report=r, note=note),
    ),
    "dismiss": (
        "Dismiss",
        "change",
        lambda r, m, note: moderation.moderation_dismiss(moderator=m, report=r, note=note),
    ),
    "unhide_content": (
        "Restore the post",
        "change",
        lambda r, m, note: moderation.moderation_unhide_post(moderator=m, post=_reported_post(r), note=note),
    ),
    "unsuspend_user": (
        "Lift the suspension",
        "suspend",
        lambda r, m, note: moderation.moderation_unsuspend_user(
            moderator=m, user=_reported_user(r), note=note
        ),
    ),
}


@admin.register(Report)
class ReportAdmin(ChangePageContextMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "status",
        "reason",
        "target_handle",
        "strikes",
        "reporter",
        "post_excerpt",
    )
    list_filter = ("status", "reason")
    search_fields = ("target_handle", "reporter__handle", "comment", "post__text")
    ordering = ("status", "created_at")
    readonly_fields = (
        "reporter",
        "target_user",
        "target_handle",
        "strikes",
        "post",
        "post_text",
        "reason",
        "comment",
        "created_at",
        "closed_at",
    )
    fields = ("status", *readonly_fields)
    inlines = [ModerationActionInline]
    action_form = ReasonActionForm
    actions = list(REPORT_ACTIONS)
    list_select_related = ("target_user", "reporter", "post")
    change_form_template = "admin/social/report/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        return super().get_queryset(request).annotate(_strikes=strikes_subquery("target_user_id"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Status changes only through the actions, so each one is recorded; acting on reports
        # takes ``social.change_report``.
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(SUSPEND_PERMISSION)

    @admin.display(description="Strikes", ordering="_strikes")
    def strikes(self, obj: Report) -> int:
        cached = getattr(obj, "_strikes", None)
        return int(cached) if cached is not None else user_strike_count(user_id=obj.target_user_id)

    @admin.display(description="Post")
    def post_excerpt(self, obj: Report) -> str:
        return obj.post.text[:60] if obj.post else "—"

    @admin.display(description="Post text")
    def post_text(self, obj: Report) -> str:
        return obj.post.text if obj.post else "—"

    def _allowed(self, request: HttpRequest, permission: str) -> bool:
        checker = self.has_change_permission if permission == "change" else self.has_suspend_permission
        return bool(checker(request))

    def get_urls(self) -> list[Any]:
        moderate = path(
            "<path:object_id>/moderate/",
            self.admin_site.admin_view(require_POST(self.moderate_view)),
            name="social_report_moderate",
        )
        return [moderate, *super().get_urls()]

    def moderate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One button of a report's page: the action named by ``action``, with the ``note``."""
        report = get_object_or_404(
            self.get_queryset(request).select_related("post", "target_user"), pk=object_id
        )
        name = str(request.POST.get("action", ""))
        note = str(request.POST.get("note", "")).strip()[:1000]
        back = HttpResponseRedirect(reverse("admin:social_report_change", args=[report.pk]))
        if name not in REPORT_ACTIONS:
            self.message_user(request, "Choose an action.", messages.ERROR)
            return back
        label, permission, act = REPORT_ACTIONS[name]
        if not self._allowed(request, permission):
            self.message_user(request, "You do not have the permission for this action.", messages.ERROR)
            return back
        if not note:
            self.message_user(
                request, "Write a note: it is logged and told to the people concerned.", messages.ERROR
            )
            return back
        try:
            act(report, _staff(request), note)
        except ApplicationError as exc:
            self.message_user(request, f"{label}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"{label}: done.", messages.SUCCESS)
        return back

    def change_page_context(self, request: HttpRequest, obj: Report) -> dict[str, Any]:
        buttons = [
            (name, label)
            for name, (label, permission, _act) in REPORT_ACTIONS.items()
            if self._allowed(request, permission)
        ]
        return {"moderation_buttons": buttons, "strikes": user_strike_count(user_id=obj.target_user_id)}


def _report_action(name: str) -> Any:
    label, permission, act = REPORT_ACTIONS[name]

    def run(modeladmin: ReportAdmin, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        moderator = _staff(request)
        staff_action_run(
            modeladmin,
            request,
            queryset.select_related("post", "target_user", "reporter"),
            lambda report, note: act(report, moderator, note),
            done=label,
        )

    run.__name__ = name
    return admin.action(description=f"{label} (with the reason as the note)", permissions=[permission])(run)


for _name in REPORT_ACTIONS:
    setattr(ReportAdmin, _name, _report_action(_name))


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "moderator", "target_handle", "report", "post", "note")
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
    action_form = ReasonActionForm
    actions = ["hide", "unhide"]

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

    @admin.action(
        description="Hide selected posts (the reason is told to the author)", permissions=["change"]
    )
    def hide(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        moderator = _staff(request)
        staff_action_run(
            self,
            request,
            queryset.select_related("author"),
            lambda post, note: moderation.moderation_hide_post(moderator=moderator, post=post, note=note),
            done="Hidden",
        )

    @admin.action(description="Restore selected hidden posts (the author is told)", permissions=["change"])
    def unhide(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        moderator = _staff(request)
        staff_action_run(
            self,
            request,
            queryset.select_related("author"),
            lambda post, note: moderation.moderation_unhide_post(moderator=moderator, post=post, note=note),
            done="Restored",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# Relationships and notifications, read-only: who follows, blocks and mutes whom, and what
# notifications someone got, for investigating harassment. Changes are the users' own.


@admin.register(Follow)
class FollowAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("follower", "followee", "created_at")
    search_fields = ("follower__handle", "followee__handle")
    list_select_related = ("follower", "followee")
    date_hierarchy = "created_at"


@admin.register(FollowRequest)
class FollowRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("requester", "target", "created_at")
    search_fields = ("requester__handle", "target__handle")
    list_select_related = ("requester", "target")


@admin.register(Block)
class BlockAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__handle", "blocked__handle")
    list_select_related = ("blocker", "blocked")
    date_hierarchy = "created_at"


@admin.register(Mute)
class MuteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("muter", "muted", "expires_at", "created_at")
    search_fields = ("muter__handle", "muted__handle")
    list_select_related = ("muter", "muted")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("recipient", "kind", "actor", "post", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__handle", "actor__handle")
    list_select_related = ("recipient", "actor", "post")
    raw_id_fields = ("recipient", "actor", "post")
    date_hierarchy = "created_at"
