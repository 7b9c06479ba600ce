"""Reads for accounts: users by handle, the signed-in user. The security log and sessions are in
``accounts.selectors.security``."""

from __future__ import annotations

from accounts.models import User
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
