"""Admin for users: search, filters, profile and security log inline, and deactivation."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from accounts.auth import request_user
from accounts.models import Profile, SecurityEvent, User
from accounts.services import user_deactivate
from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from accounts.services.security import MFA_RESET_PERMISSION, mfa_reset
from config.admin import ReadOnlyAdminMixin
from config.errors import PermissionDeniedError


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
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ("email", "handle", "is_active", "is_staff", "is_verified", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", VerifiedFilter, "is_superuser")
    search_fields = ("email", "handle", "profile__display_name")
    ordering = ("-date_joined",)
    readonly_fields = ("date_joined", "last_login")
    inlines = (ProfileInline, SecurityEventInline)
    actions = ("deactivate",)
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

    @admin.action(description="Deactivate selected users (ends their sessions)", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request_user(request)
        count = 0
        for user in queryset.filter(is_active=True):
            if user.pk == actor.pk:
                self.message_user(request, "You cannot deactivate yourself.", messages.WARNING)
                continue
            user_deactivate(user=user, reason="admin", actor=actor)
            count += 1
        self.message_user(
            request, f"Deactivated {count} user(s); their sessions are ended.", messages.SUCCESS
        )


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
    actions = ("reset_two_factor",)

    def has_reset_permission(self, request: HttpRequest) -> bool:
        return request_user(request).has_perm(MFA_RESET_PERMISSION)

    @admin.action(
        description="Reset two-factor authentication of the selected methods' users (logged, e-mailed)",
        permissions=["reset"],
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[Authenticator]) -> None:
        actor = request_user(request)
        users = User.objects.filter(pk__in=queryset.values("user_id"))
        done = 0
        for user in users:
            try:
                mfa_reset(user=user, actor=actor, reason="reset by staff in the admin", request=request)
            except PermissionDeniedError as error:
                self.message_user(request, f"{user}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            f"Two-factor authentication reset for {done} user(s); each was e-mailed.",
            messages.SUCCESS,
        )
