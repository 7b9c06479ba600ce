"""Reads for accounts: users by handle, the signed-in user. The security log and sessions are in
``accounts.selectors.security``."""

from __future__ import annotations

from collections.abc import Callable

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


# ``(viewer_id, user_id) -> True`` when ``user_id`` must look absent to ``viewer_id``. Apps above
# accounts register theirs in ``AppConfig.ready()`` (social: a block either way), so accounts'
# own routes hide a user exactly as theirs do without importing them.
HiddenCheck = Callable[[int, int], bool]
_hidden_checks: dict[str, HiddenCheck] = {}


def register_user_hidden_check(name: str, check: HiddenCheck) -> None:
    _hidden_checks[name] = check


def user_get_for_viewer(*, viewer: User | None, handle: str) -> User:
    """``user_get_by_handle``, and ``NotFoundError`` too when a registered check hides the user
    from ``viewer`` (e.g. a block between them). Nobody is hidden from themself."""
    user = user_get_by_handle(handle=handle)
    if viewer is not None and viewer.pk != user.pk:
        for check in _hidden_checks.values():
            if check(viewer.pk, user.pk):
                raise NotFoundError("No user with this handle.")
    return user


def user_get_me(*, user_id: int) -> User:
    """The signed-in user with their profile, loaded in one query."""
    user = User.objects.select_related("profile").filter(pk=user_id).first()
    if user is None:
        raise NotFoundError("No such user.")
    return user
