"""Writes for a user's own profile: fields, avatar and notification preferences.

The settings pages and ``PATCH /api/v1/me/`` come through ``profile_update``. The user admin's
profile inline saves the model itself, and then repeats the time-zone update of open sessions.
"""

from __future__ import annotations

import logging
import secrets
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from accounts.images import process_image
from accounts.models import NOTIFICATION_KINDS, Profile, User
from accounts.services import profile_ensure
from config.errors import ApplicationError
from config.middleware import timezone_sessions_update
from config.text import clean_user_text

logger = logging.getLogger(__name__)

AVATAR_SIZE = (400, 400)
AVATAR_SMALL_SIZE = (96, 96)


def delete_files_on_commit(names: list[str]) -> None:
    """Removes replaced files once the new state is committed (never before: a rollback keeps them)."""
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        storage = Profile._meta.get_field("avatar").storage  # type: ignore[attr-defined]
        for name in names:
            try:
                storage.delete(name)
            except OSError:  # a missing file is not worth failing for
                logger.warning("Could not delete avatar file %s", name)

    transaction.on_commit(delete)


@transaction.atomic
def profile_avatar_clear(*, profile: Profile) -> None:
    """Removes both avatar sizes (files are deleted after commit)."""
    old = [profile.avatar.name, profile.avatar_small.name]
    profile.avatar = ""  # type: ignore[assignment]
    profile.avatar_small = ""  # type: ignore[assignment]
    delete_files_on_commit(old)


def _avatar_set(*, profile: Profile, upload: File) -> None:
    large = process_image(
        upload=upload, max_bytes=settings.AVATAR_MAX_BYTES, max_size=AVATAR_SIZE, square=True
    )
    # The small size is made from the clean large one: already verified, already square.
    small = process_image(
        upload=large.content, max_bytes=settings.AVATAR_MAX_BYTES, max_size=AVATAR_SMALL_SIZE, square=True
    )
    large.content.seek(0)
    old = [profile.avatar.name, profile.avatar_small.name]
    # A new name for every upload: an avatar URL never comes back to show, from a browser's or
    # a CDN's cache, a picture that was replaced since.
    version = secrets.token_urlsafe(6)
    profile.avatar.save(f"avatar-{version}.{large.extension}", large.content, save=False)
    profile.avatar_small.save(f"avatar-small-{version}.{small.extension}", small.content, save=False)
    delete_files_on_commit(old)


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    website: str | None = None,
    location: str | None = None,
    is_private: bool | None = None,
    timezone: str | None = None,
    notification_preferences: dict[str, bool] | None = None,
    email_notifications: bool | None = None,
    avatar: File | None = None,
    remove_avatar: bool = False,
) -> Profile:
    """Changes the given fields of the user's own profile; ``None`` leaves a field as it is.

    Text is stored as plain text (control characters removed). ``notification_preferences``
    is merged into the saved preferences and only knows the kinds in ``NOTIFICATION_KINDS``.
    An ``avatar`` upload goes through the image pipeline and is stored at 400x400 and 96x96;
    ``remove_avatar`` deletes both. Raises ``ApplicationError`` (400, with ``fields``) for
    invalid input and ``InvalidImageError`` for an image that is refused.
    """
    profile = Profile.objects.select_for_update().filter(user=user).first() or profile_ensure(user=user)
    changes: dict[str, Any] = {}
    if display_name is not None:
        changes["display_name"] = clean_user_text(display_name)
    if bio is not None:
        changes["bio"] = clean_user_text(bio, multiline=True)
    if website is not None:
        changes["website"] = website.strip()
    if location is not None:
        changes["location"] = clean_user_text(location)
    if is_private is not None:
        changes["is_private"] = is_private
    if timezone is not None:
        changes["timezone"] = timezone.strip()
    if email_notifications is not None:
        changes["email_notifications"] = email_notifications
    if notification_preferences is not None:
        unknown = sorted(set(notification_preferences) - set(NOTIFICATION_KINDS))
        if unknown:
            raise ApplicationError(
                "Unknown notification kind.",
                fields={"notification_preferences": [f"Unknown kind: {', '.join(unknown)}."]},
            )
        changes["notification_preferences"] = {
            **profile.notification_preferences,
            **{kind: bool(on) for kind, on in notification_preferences.items()},
        }

    timezone_changed = "timezone" in changes and changes["timezone"] != profile.timezone
    for field, value in changes.items():
        setattr(profile, field, value)
    try:
        profile.full_clean(exclude=["user", "avatar", "avatar_small"])
    except ValidationError as exc:
        raise ApplicationError("The profile is not valid.", fields=exc.message_dict) from exc

    if remove_avatar:
        profile_avatar_clear(profile=profile)
    elif avatar is not None:
        _avatar_set(profile=profile, upload=avatar)
    profile.save()
    if timezone_changed:
        # Sessions carry the zone (config.middleware.UserTimezoneMiddleware).
        transaction.on_commit(partial(timezone_sessions_update, user_id=user.pk, tz_name=profile.timezone))
    return profile


def on_user_saved(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """post_save receiver: every new user gets a profile, whoever created them."""
    if created and not raw:
        profile_ensure(user=instance)
