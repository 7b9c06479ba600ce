"""Serializers for users and profiles. Output ones are shared with other apps.

Output serializers expect a ``User`` whose ``profile`` is already loaded
(``select_related("profile")``): they never query.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import NOTIFICATION_KINDS, User


def _absolute(context: dict[str, Any], url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


class UserSummarySerializer(serializers.Serializer):
    """How a user appears next to their posts, in lists and in notifications."""

    handle = serializers.CharField(read_only=True)
    display_name = serializers.SerializerMethodField()
    avatar_url = serializers.SerializerMethodField(help_text="The 96x96 avatar (or a default picture).")
    is_private = serializers.BooleanField(source="profile.is_private", read_only=True)

    def get_display_name(self, user: User) -> str:
        return user.profile.name

    def get_avatar_url(self, user: User) -> str:
        return _absolute(self.context, user.profile.avatar_small_url)


class ProfileSerializer(UserSummarySerializer):
    """A user's public profile card: what anyone may see, private account or not."""

    avatar_large_url = serializers.SerializerMethodField(help_text="The 400x400 avatar.")
    bio = serializers.CharField(source="profile.bio", read_only=True)
    website = serializers.CharField(source="profile.website", read_only=True)
    location = serializers.CharField(source="profile.location", read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)

    def get_avatar_large_url(self, user: User) -> str:
        return _absolute(self.context, user.profile.avatar_url)


@extend_schema_field(
    {
        "type": "object",
        "properties": {kind: {"type": "boolean"} for kind in NOTIFICATION_KINDS},
        "additionalProperties": False,
    }
)
class NotificationPreferencesField(serializers.Field):
    """``{kind: bool}`` for every notification kind (a kind never switched off reads true)."""

    default_error_messages = {
        "not_a_dict": "Expected an object of notification kinds to true or false.",
        "not_a_bool": "Each notification kind must be true or false.",
    }

    def to_representation(self, value: Any) -> dict[str, bool]:
        stored = value or {}
        return {kind: bool(stored.get(kind, True)) for kind in NOTIFICATION_KINDS}

    def to_internal_value(self, data: Any) -> dict[str, bool]:
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        if not all(isinstance(v, bool) for v in data.values()):
            self.fail("not_a_bool")
        return dict(data)


class MeSerializer(ProfileSerializer):
    """The signed-in user's own profile, with their private settings."""

    email = serializers.EmailField(read_only=True)
    timezone = serializers.CharField(source="profile.timezone", read_only=True)
    notification_preferences = NotificationPreferencesField(
        source="profile.notification_preferences", read_only=True
    )
    email_notifications = serializers.BooleanField(source="profile.email_notifications", read_only=True)
    notification_email_preferences = NotificationPreferencesField(
        source="profile.notification_email_preferences",
        read_only=True,
        help_text=(
            "Per kind, whether its notifications also come by e-mail (the settings page's e-mail "
            "switches). An e-mail is sent only when the kind and `email_notifications` are on too."
        ),
    )


class MeUpdateInputSerializer(serializers.Serializer):
    """A partial update of the own profile. Send JSON, or multipart/form-data to upload ``avatar``.

    ``avatar: null`` (JSON) or ``remove_avatar: true`` removes the avatar. Types and lengths only:
    the website's scheme and the time zone are checked by the model's validators (the service).
    """

    display_name = serializers.CharField(
        max_length=50, allow_blank=True, required=False, trim_whitespace=True
    )
    bio = serializers.CharField(max_length=300, allow_blank=True, required=False, trim_whitespace=False)
    website = serializers.URLField(max_length=200, allow_blank=True, required=False)
    location = serializers.CharField(max_length=60, allow_blank=True, required=False)
    is_private = serializers.BooleanField(required=False)
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="An IANA time zone, e.g. Europe/Paris."
    )
    notification_preferences = NotificationPreferencesField(required=False)
    email_notifications = serializers.BooleanField(required=False)
    # Types only: asking for a kind's e-mails while that kind is switched off is refused by
    # profile_update, the page's service (400, code `email_without_notification`).
    notification_email_preferences = NotificationPreferencesField(
        required=False,
        help_text=(
            "Kinds whose e-mails to switch on or off, merged into the saved ones. `true` for a kind "
            "whose notifications are off (saved, or in the same request) is refused."
        ),
    )
    avatar = serializers.FileField(
        required=False, allow_null=True, help_text="A JPEG, PNG, WebP or GIF image of at most 5 MB."
    )
    remove_avatar = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "avatar" in attrs and attrs["avatar"] is None:
            attrs["remove_avatar"] = True
            del attrs["avatar"]
        if attrs.get("remove_avatar") and attrs.get("avatar") is not None:
            raise serializers.ValidationError({"avatar": ["Send an avatar or remove it, not both."]})
        return attrs


class AccountDeleteInputSerializer(serializers.Serializer):
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="The current password. Not needed within a few minutes of re-authenticating.",
    )
