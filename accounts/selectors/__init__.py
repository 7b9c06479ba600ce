"""Reads for accounts: users by handle, the acting user's own data."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import QuerySet

from accounts.models import SecurityEvent, User
from config.errors import NotFoundError


def user_get_by_handle(*, handle: str) -> User:
    """The active user with this handle, in any case, with their profile loaded.

    Raises ``NotFoundError`` for an unknown handle and for deactivated users alike, so a
    deactivated account cannot be told apart from one that never existed.
    """
    handle = handle.lstrip("@")
    user = User.objects.select_related("profile").filter(handle__iexact=handle, is_active=True).first()
    if user is None:
        raise NotFoundError("No user with this handle.")
    return user


def user_get_me(*, user_id: int) -> User:
    """The signed-in user with their profile, loaded in one query."""
    user = User.objects.select_related("profile").filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such user.")
    return user


def email_address_list(*, user: User) -> QuerySet[EmailAddress]:
    return EmailAddress.objects.filter(user=user).order_by("-primary", "email")


def security_event_list(*, user: User) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")
