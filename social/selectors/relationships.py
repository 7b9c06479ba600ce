"""Lists of people: followers, following, follow requests, blocks, mutes.

Each returns ``values()`` rows for ``presenters.user_row_present`` (``handle``,
``display_name``, ``avatar``, ``created_at``, and ``expires_at`` for mutes), newest first
under the cursor paginator.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet

from accounts.models import User
from social.models import Block, Follow, FollowRequest, Mute
from social.selectors.visibility import (
    Viewer,
    active_mutes_q,
    blocked_either_way_q,
    profile_posts_visible,
    viewer_id_of,
)


def _user_rows(qs: QuerySet[Any], prefix: str, *extra: str) -> QuerySet[Any]:
    return qs.values(
        "id",
        "created_at",
        *extra,
        handle=F(f"{prefix}handle"),
        display_name=F(f"{prefix}profile__display_name"),
        avatar=F(f"{prefix}profile__avatar_small"),
        user_id=F(f"{prefix}id"),
    )


def _follow_list(*, viewer: Viewer, owner: User, side: str) -> QuerySet[Any]:
    if not profile_posts_visible(viewer=viewer, owner=owner):
        return Follow.objects.none().values()
    mine, theirs = ("followee", "follower") if side == "follower" else ("follower", "followee")
    qs = Follow.objects.filter(**{mine: owner, f"{theirs}__is_active": True})
    viewer_id = viewer_id_of(viewer)
    if viewer_id is not None:
        qs = qs.exclude(blocked_either_way_q(viewer_id, f"{theirs}_id"))
    return _user_rows(qs, f"{theirs}__")


def follower_list(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    """Who follows ``owner``; for a private account only its followers see it."""
    return _follow_list(viewer=viewer, owner=owner, side="follower")


def following_list(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    """Whom ``owner`` follows; for a private account only its followers see it."""
    return _follow_list(viewer=viewer, owner=owner, side="followee")


def follow_request_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(FollowRequest.objects.filter(target=user, requester__is_active=True), "requester__")


def block_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(Block.objects.filter(blocker=user), "blocked__")


def mute_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(Mute.objects.filter(active_mutes_q(), muter=user), "muted__", "expires_at")
