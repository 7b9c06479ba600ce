"""Admin for users: search, filters, profile and security log inline, the account actions staff
run (each with its own permission and a reason, audited), sessions and sign-up blocks."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from accounts.auth import request_user
from accounts.models import Profile, SecurityEvent, SignupBlock, User
from accounts.roles import ASSIST_PERMISSION, REVOKE_KEYS_PERMISSION, SUSPEND_PERMISSION
from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from accounts.services.security import MFA_RESET_PERMISSION, mfa_reset
from accounts.services.staff import (
    user_deactivate_by_staff,
    user_email_mark_verified,
    user_email_verification_resend,
    user_reactivate,
    user_sessions_end_all,
)
from config.admin import CsvExportMixin, ReadOnlyAdminMixin, ReasonActionForm, export_as_csv, staff_action_run
from config.errors import ConflictError


class VerifiedFilter(admin.SimpleListFilter):
    """Users with (or without) at least one verified e-mail address."""

    title = "verified e-mail"
    parameter_name = "verified"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Verified"), ("no", "Not verified")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        verified = Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True))
        if self.value() == "yes":
            return queryset.filter(verified)
        if self.value() == "no":
            return queryset.exclude(verified)
        return queryset


# Handle and e-mail rules are the model's (``validate_handle`` and the case-insensitive unique
# constraints, checked by model validation): these forms only store e-mails in lower case, as
# the manager does.


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "handle")

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


# The profile fields staff may edit, each a keyword of ``profile_update``.
PROFILE_ADMIN_FIELDS = (
    "display_name",
    "bio",
    "website",
    "location",
    "is_private",
    "timezone",
    "notification_preferences",
    "email_notifications",
)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = (*PROFILE_ADMIN_FIELDS[:4], "avatar", "avatar_small", *PROFILE_ADMIN_FIELDS[4:])
    # Avatars are only set through the image pipeline (settings page or API).
    readonly_fields = ("avatar", "avatar_small")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class SecurityEventInline(admin.TabularInline):
    """The latest 20 lines of the user's security log, read-only."""

    model = SecurityEvent
    fields = ("created_at", "kind", "ip_address", "user_agent", "detail")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "Security log (latest 20)"
    LIMIT = 20

    def get_queryset(self, request: HttpRequest) -> QuerySet[SecurityEvent]:
        queryset = super().get_queryset(request)
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if object_id is None:
            return queryset.none()
        latest = SecurityEvent.objects.filter(user_id=object_id).order_by("-created_at", "-id")[: self.LIMIT]
        return queryset.filter(pk__in=list(latest.values_list("pk", flat=True)))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(CsvExportMixin, DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    action_form = ReasonActionForm
    list_display = ("email", "handle", "is_active", "is_staff", "is_verified", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", VerifiedFilter, "is_superuser")
    search_fields = ("email", "handle", "profile__display_name")
    ordering = ("-date_joined",)
    readonly_fields = ("date_joined", "last_login")
    inlines = (ProfileInline, SecurityEventInline)
    # Upper apps add theirs (integrations: "revoke all API keys").
    actions: Any = (
        "deactivate",
        "reactivate",
        "resend_verification",
        "mark_email_verified",
        "reset_two_factor",
        "end_all_sessions",
        export_as_csv,
    )
    fieldsets = (
        (None, {"fields": ("email", "handle", "password")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Permissions", {"classes": ("collapse",), "fields": ("groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "handle", "usable_password", "password1", "password2"),
            },
        ),
    )
    # Who is staff and what they may do is for superusers only: a staff member allowed to edit
    # users must not be able to grant themselves (or anyone) more.
    PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not request_user(request).is_superuser:
            fields += self.PRIVILEGE_FIELDS
        return fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A superuser's account (its form, its password) is for superusers only.
        if obj is not None and obj.is_superuser and not request_user(request).is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request_user(request).is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return (
            super()
            .get_queryset(request)
            .annotate(_verified=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)))
        )

    @admin.display(boolean=True, description="Verified", ordering="_verified")
    def is_verified(self, user: User) -> bool:
        return bool(getattr(user, "_verified", False))

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        # The add page has no profile or log yet (the profile is created with the user).
        return self.inlines if obj is not None else ()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Profile:
            super().save_formset(request, form, formset, change)
            return
        # The profile inline saves through the same service as the settings page and the API:
        # text is cleaned the same way and a new time zone reaches the user's open sessions.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for profile_form in formset.forms:
            changed = [name for name in profile_form.changed_data if name in PROFILE_ADMIN_FIELDS]
            if changed:
                profile = profile_update(
                    user=profile_form.instance.user,
                    **{name: profile_form.cleaned_data[name] for name in changed},
                )
                formset.changed_objects.append((profile, changed))  # for the admin's history

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        # The same deletion as the user's own: every app's eraser runs (Stripe, files, sessions).
        account_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            account_delete(user=user)

    # Each action's own permission (accounts.roles), checked by the admin before it runs and by
    # the service again (with the superuser rule).
    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(SUSPEND_PERMISSION)

    def has_assist_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(ASSIST_PERMISSION)

    def has_reset_mfa_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(MFA_RESET_PERMISSION)

    def has_revoke_keys_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(REVOKE_KEYS_PERMISSION)

    def _run(self, request: HttpRequest, queryset: QuerySet[User], service: Any, done: str) -> None:
        actor = request_user(request)
        staff_action_run(
            self,
            request,
            queryset,
            lambda user, reason: service(user=user, actor=actor, reason=reason),
            done=done,
        )

    @admin.action(description="Deactivate (ends their sessions; e-mailed)", permissions=["suspend"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(request, queryset, user_deactivate_by_staff, "Deactivated; their sessions are ended")

    @admin.action(description="Reactivate (e-mailed)", permissions=["suspend"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(request, queryset, user_reactivate, "Reactivated")

    @admin.action(description="Resend the verification e-mail", permissions=["assist"])
    def resend_verification(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request_user(request)
        staff_action_run(
            self,
            request,
            queryset,
            lambda user, reason: user_email_verification_resend(
                user=user, actor=actor, reason=reason, request=request
            ),
            done="Verification e-mail sent",
        )

    @admin.action(description="Mark the e-mail address verified", permissions=["assist"])
    def mark_email_verified(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(request, queryset, user_email_mark_verified, "Marked verified")

    @admin.action(description="End all sessions (e-mailed)", permissions=["assist"])
    def end_all_sessions(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._run(request, queryset, user_sessions_end_all, "Signed out everywhere")

    @admin.action(
        description="Reset two-factor authentication (never shows secrets; e-mailed)",
        permissions=["reset_mfa"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request_user(request)
        staff_action_run(
            self,
            request,
            queryset,
            lambda user, reason: _mfa_reset_or_refuse(user=user, actor=actor, reason=reason, request=request),
            done="Two-factor authentication reset",
        )


def _mfa_reset_or_refuse(*, user: User, actor: User, reason: str, request: HttpRequest) -> None:
    if not mfa_reset(user=user, actor=actor, reason=reason, request=request):
        raise ConflictError("This user has no two-factor authentication to reset.")


# allauth's session admin searches ``user__username``, which this user model does not have (a
# search answered 500). Sessions are ended through the users' "end all sessions" action, which
# also ends the session itself, not only its row: this list is for looking.
admin.site.unregister(UserSession)


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "created_at", "last_seen_at", "ip", "user_agent")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__handle", "ip")
    raw_id_fields = ("user",)
    ordering = ("-last_seen_at",)


@admin.register(SignupBlock)
class SignupBlockAdmin(admin.ModelAdmin):
    """E-mail domains and IP networks refused at sign-up (added and removed here, each change in
    the audit log)."""

    list_display = ("value", "kind", "note", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "note")
    fields = ("kind", "value", "note")


# Two-factor methods: allauth's admin shows each method's secret (the TOTP seed, recovery
# codes' seed, security keys' credential) in editable boxes, and deleting a row silently resets
# someone's second factor. Here staff see only which methods a user has; the one way to remove
# them is the reset action, which goes through ``mfa_reset`` (permission, log line, e-mail).
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    search_fields = ("user__email", "user__handle")
    list_select_related = ("user",)
    # Never ``data``: it holds the secrets.
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields
    action_form = ReasonActionForm
    actions = ("reset_two_factor",)

    def has_reset_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(MFA_RESET_PERMISSION)

    @admin.action(
        description="Reset two-factor authentication of the selected methods' users (logged, e-mailed)",
        permissions=["reset"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        actor = request_user(request)
        staff_action_run(
            self,
            request,
            User.objects.filter(pk__in=queryset.values("user_id")),
            lambda user, reason: _mfa_reset_or_refuse(user=user, actor=actor, reason=reason, request=request),
            done="Two-factor authentication reset (each user was e-mailed)",
        )
