"""Writes for a user's own profile: fields, avatar and notification preferences.

Every path that changes a profile comes through ``profile_update``: the settings pages,
``PATCH /api/v1/me/`` and the user admin's profile inline. So text is cleaned by one rule
(``config.text.clean_user_text``), every field is checked by the model's validators, and a new
time zone reaches the user's open sessions in one place.
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


def avatar_files_delete_on_commit(names: list[str]) -> None:
    """Removes replaced files once the new state is committed (never before: a rollback keeps them)."""
    names = [name for name in names if name]
    if not names:
        return

    def delete() -> None:
        storage = Profile._meta.get_field("avatar").storage
        for name in names:
            try:
                storage.delete(name)
            except OSError:  # a missing file is not worth failing for
                logger.warning("Could not delete avatar file %s", name)

    transaction.on_commit(delete)


def _check_emails_have_notifications(*, profile: Profile, asked: dict[str, bool]) -> None:
    """E-mails tell of notifications: asking for a kind's e-mails while that kind is switched
    off would silently send nothing, so it is refused, by the kinds concerned."""
    pointless = [kind for kind, on in asked.items() if on and not profile.wants_notification(kind)]
    if pointless:
        names = ", ".join(f"“{NOTIFICATION_KINDS[kind]}”" for kind in pointless)
        its = "its" if len(pointless) == 1 else "their"
        message = (
            f"E-mails come only with the notification itself: switch on {names}, or untick {its} e-mails."
        )
        raise ApplicationError(
            message, code="email_without_notification", fields={"notification_email_preferences": [message]}
        )


@transaction.atomic
def profile_avatar_clear(*, profile: Profile) -> None:
    """Removes both avatar sizes (files are deleted after commit)."""
    old = [profile.avatar.name, profile.avatar_small.name]
    profile.avatar = ""
    profile.avatar_small = ""
    avatar_files_delete_on_commit(old)


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
    avatar_files_delete_on_commit(old)


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
    notification_email_preferences: dict[str, bool] | None = None,
    avatar: File | None = None,
    remove_avatar: bool = False,
) -> Profile:
    """Changes the given fields of the user's own profile; ``None`` leaves a field as it is.

    Text is stored as plain text (control characters removed). ``notification_preferences``
    is merged into the saved preferences (only kinds of ``accounts.models.NOTIFICATION_KINDS``);
    so is ``notification_email_preferences`` (which kinds also come by e-mail), and asking for
    the e-mails of a kind that ends up switched off is refused (there would be nothing to send).
    An ``avatar`` upload goes through the image pipeline and is stored at 400x400 and 96x96;
    ``remove_avatar`` deletes both. Raises ``ApplicationError`` (400, with ``fields``) for
    invalid input and ``InvalidImageError`` for an image that is refused.
    """
    profile = Profile.objects.select_for_update().filter(user=user).first() or profile_ensure(user=user)
    given: dict[str, Any] = {
        # The one text rule for user-written fields: no control, bidi or zero-width characters.
        "display_name": None if display_name is None else clean_user_text(display_name),
        "bio": None if bio is None else clean_user_text(bio, multiline=True),
        "location": None if location is None else clean_user_text(location),
        "website": None if website is None else website.strip(),
        "timezone": None if timezone is None else timezone.strip(),
        "is_private": is_private,
        "email_notifications": email_notifications,
        # Merged into the saved ones; the model's validator refuses unknown kinds.
        "notification_preferences": (
            None
            if notification_preferences is None
            else {**profile.notification_preferences, **notification_preferences}
        ),
        "notification_email_preferences": (
            None
            if notification_email_preferences is None
            else {**profile.notification_email_preferences, **notification_email_preferences}
        ),
    }
    changes = {field: value for field, value in given.items() if value is not None}

    timezone_changed = "timezone" in changes and changes["timezone"] != profile.timezone
    for field, value in changes.items():
        setattr(profile, field, value)
    try:
        profile.full_clean(exclude=["user", "avatar", "avatar_small"])
    except ValidationError as exc:
        raise ApplicationError("The profile is not valid.", fields=exc.message_dict) from exc
    _check_emails_have_notifications(profile=profile, asked=notification_email_preferences or {})

    if remove_avatar:
        profile_avatar_clear(profile=profile)
    elif avatar is not None:
        _avatar_set(profile=profile, upload=avatar)
    profile.save()
    if timezone_changed:
        # Sessions carry the zone (config.middleware.UserTimezoneMiddleware).
        transaction.on_commit(partial(timezone_sessions_update, user_id=user.pk, tz_name=profile.timezone))
    return profile
