"""Forms for the profile, notification and account settings pages.

They add types and lengths only: every rule (website scheme, time zone, notification kinds) is the
model's validator, which the service runs; its errors come back onto the form's fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from accounts.models import NOTIFICATION_KINDS, Profile, available_timezones
from accounts.services.email_unsubscribe import KIND_TOPICS

TIMEZONE_CHOICES = [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=50, required=False, help_text="Shown instead of your @handle.")
    bio = forms.CharField(
        max_length=300,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 300}),
        help_text="Plain text, up to 300 characters.",
    )
    website = forms.URLField(
        max_length=200,
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "Enter a valid http:// or https:// address."},
        widget=forms.URLInput(attrs={"placeholder": "https://example.com"}),
    )
    location = forms.CharField(max_length=60, required=False)
    # A list to pick from, but not a ChoiceField: which zones exist is the model's rule.
    timezone = forms.CharField(
        label="Time zone",
        widget=forms.Select(choices=TIMEZONE_CHOICES),
        help_text="Times on the site are shown in it.",
    )
    is_private = forms.BooleanField(
        required=False,
        label="Private account",
        help_text="Only followers you approve see your posts.",
    )
    avatar = forms.FileField(
        required=False,
        help_text=f"JPEG, PNG, WebP or GIF, up to {settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my avatar")

    @classmethod
    def initial_for(cls, profile: Profile) -> dict[str, Any]:
        return {
            "display_name": profile.display_name,
            "bio": profile.bio,
            "website": profile.website,
            "location": profile.location,
            "timezone": profile.timezone,
            "is_private": profile.is_private,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("remove_avatar") and cleaned.get("avatar"):
            self.add_error("avatar", "Upload a new avatar or remove it, not both.")
        return cleaned


class NotificationPreferencesForm(forms.Form):
    """Per notification kind: a checkbox for the notification (``<kind>``) and one for its
    e-mails (``email_<kind>``), plus the switch for every notification e-mail. Types only: the
    rules are ``profile_update``'s."""

    email_notifications = forms.BooleanField(
        required=False,
        label="Send me notification e-mails",
        help_text="Many at once come as one digest. Every e-mail has a one-click unsubscribe link.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = {
            kind: forms.BooleanField(required=False, label=label)
            for kind, label in NOTIFICATION_KINDS.items()
        }
        emails = {
            f"email_{kind}": forms.BooleanField(required=False, label=KIND_TOPICS[kind].capitalize())
            for kind in NOTIFICATION_KINDS
        }
        self.fields = {**kinds, **self.fields, **emails}

    @classmethod
    def initial_for(cls, profile: Profile) -> dict[str, Any]:
        initial: dict[str, Any] = {kind: profile.wants_notification(kind) for kind in NOTIFICATION_KINDS}
        initial["email_notifications"] = profile.email_notifications
        for kind in NOTIFICATION_KINDS:
            # A kind switched off sends no e-mail, so its box starts unticked: ticked, saving the
            # page as shown would ask for e-mails without the notification, which is refused.
            initial[f"email_{kind}"] = profile.wants_notification(kind) and bool(
                profile.notification_email_preferences.get(kind, True)
            )
        return initial

    def preferences(self) -> dict[str, bool]:
        return {kind: bool(self.cleaned_data.get(kind)) for kind in NOTIFICATION_KINDS}

    def email_preferences(self) -> dict[str, bool]:
        return {kind: bool(self.cleaned_data.get(f"email_{kind}")) for kind in NOTIFICATION_KINDS}

    def kind_fields(self) -> list[forms.BoundField]:
        return [self[kind] for kind in NOTIFICATION_KINDS]

    def email_kind_fields(self) -> list[forms.BoundField]:
        return [self[f"email_{kind}"] for kind in NOTIFICATION_KINDS]


class AccountDeleteForm(forms.Form):
    """Typing the handle is the "are you sure"; re-authentication is the "is it you"."""

    confirm_handle = forms.CharField(label="Type your handle to confirm", max_length=30)

    def __init__(self, *args: Any, handle: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handle = handle

    def clean_confirm_handle(self) -> str:
        value: str = self.cleaned_data["confirm_handle"].strip().lstrip("@")
        if value.lower() != self.handle.lower():
            raise forms.ValidationError("This is not your handle.")
        return value
