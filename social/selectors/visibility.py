"""Who may see what: the one visibility rule, blocks, mutes and the relationship flags.

Who may see a post (``visible_posts_q``):
- nobody sees posts that are deleted, hidden by a moderator, or by a suspended author;
- nobody sees anything across a block, in either direction;
- the author sees their own posts; a mentioned user sees the post whatever its visibility;
- a follower sees public and followers-only posts;
- anyone else (signed in or not) sees public posts of public accounts only.
Feeds additionally drop muted people's posts and reposts.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from config.compiled_queries import PrecompiledQuery
from config.errors import NotFoundError
from social.models import Block, Follow, FollowRequest, Mention, Mute, Post

Viewer = User | AnonymousUser | None

POST_NOT_FOUND = "This post does not exist or you cannot see it."
# What accounts.models.HANDLE_VALIDATOR allows: anything else (a NUL byte, a slash...) names
# nobody, and is answered before it reaches the database.
_HANDLE = re.compile(r"[A-Za-z0-9_]{3,30}")


def _users_by_handle(handle: str, *, include_inactive: bool) -> QuerySet[User]:
    qs = User.objects.select_related("profile")
    return (
        (qs if include_inactive else qs.filter(is_active=True))
        .filter(handle__iexact=handle)
        .order_by("pk")[:1]
    )


# A profile page's first query, compiled once per process (config.compiled_queries).
_user_by_handle_query = {
    include_inactive: PrecompiledQuery(
        lambda handle, i=include_inactive: _users_by_handle(handle, include_inactive=i), "handle-placeholder"
    )
    for include_inactive in (False, True)
}


def _user_by_handle(handle: str, *, include_inactive: bool = False) -> User:
    user = None
    if _HANDLE.fullmatch(handle):
        user = _user_by_handle_query[include_inactive].first(handle)
    if user is None:
        raise NotFoundError("No such user.")
    return user


def viewer_id_of(viewer: Viewer) -> int | None:
    if viewer is None or not viewer.is_authenticated:
        return None
    return int(viewer.pk)


def block_exists_between(*, a_id: int, b_id: int) -> bool:
    """True when either user blocks the other."""
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def follow_exists(*, follower_id: int, followee_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


def active_mutes_q(prefix: str = "") -> Q:
    """Mutes still in force, for a queryset of ``Mute`` (``prefix`` for a related lookup)."""
    return Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": timezone.now()})


def mute_exists(*, muter_id: int, muted_id: int) -> bool:
    return Mute.objects.filter(active_mutes_q(), muter_id=muter_id, muted_id=muted_id).exists()


def blocked_either_way_q(viewer_id: int, user_ref: str) -> Q:
    """A Q matching rows whose ``user_ref`` user blocks the viewer or is blocked by them."""
    return Q(Exists(Block.objects.filter(blocker_id=viewer_id, blocked_id=OuterRef(user_ref)))) | Q(
        Exists(Block.objects.filter(blocker_id=OuterRef(user_ref), blocked_id=viewer_id))
    )


def muted_exists(viewer_id: int, user_ref: str) -> Exists:
    return Exists(Mute.objects.filter(active_mutes_q(), muter_id=viewer_id, muted_id=OuterRef(user_ref)))


def visible_posts_q(viewer: Viewer, prefix: str = "") -> Q:
    """A Q over posts (``prefix`` "post__" over a related post) of what ``viewer`` may see."""
    p = prefix
    live = Q(**{f"{p}deleted_at__isnull": True, f"{p}hidden_at__isnull": True, f"{p}author__is_active": True})
    public = Q(**{f"{p}visibility": Post.Visibility.PUBLIC, f"{p}author__profile__is_private": False})
    viewer_id = viewer_id_of(viewer)
    if viewer_id is None:
        return live & public
    follows = Exists(Follow.objects.filter(follower_id=viewer_id, followee_id=OuterRef(f"{p}author_id")))
    mentioned = Exists(Mention.objects.filter(user_id=viewer_id, post_id=OuterRef(f"{p}id")))
    may_see = (
        Q(**{f"{p}author_id": viewer_id})
        | public
        | (Q(**{f"{p}visibility__in": [Post.Visibility.PUBLIC, Post.Visibility.FOLLOWERS]}) & Q(follows))
        | Q(mentioned)
    )
    return live & may_see & ~blocked_either_way_q(viewer_id, f"{p}author_id")


def visible_post_exists(*, viewer: Viewer, post_id: int) -> bool:
    return Post.objects.filter(visible_posts_q(viewer), pk=post_id).exists()


def post_get_for_user(*, user: Viewer, post_id: int) -> Post:
    """The post if ``user`` may see it; NotFoundError otherwise (never reveals that it exists)."""
    post = (
        Post.objects.filter(visible_posts_q(user), pk=post_id)
        .select_related("author", "author__profile", "reply_to", "root")
        .first()
    )
    if post is None:
        raise NotFoundError(POST_NOT_FOUND)
    return post


def user_get_visible(*, viewer: Viewer, handle: str) -> User:
    """The active user with ``handle`` unless a block stands between them and ``viewer``."""
    user = _user_by_handle(handle)
    viewer_id = viewer_id_of(viewer)
    if viewer_id is not None and viewer_id != user.pk and block_exists_between(a_id=viewer_id, b_id=user.pk):
        raise NotFoundError("No such user.")
    return user


def user_get_by_handle(*, handle: str, include_inactive: bool = False) -> User:
    """The user with ``handle``, blocks or not (to block, unblock, unmute them); suspended
    people only with ``include_inactive`` (they can still be unblocked)."""
    return _user_by_handle(handle, include_inactive=include_inactive)


def profile_posts_visible(*, viewer: Viewer, owner: User) -> bool:
    """A private account's posts are for its followers (and the owner) only."""
    viewer_id = viewer_id_of(viewer)
    if viewer_id == owner.pk or not owner.profile.is_private:
        return True
    return viewer_id is not None and follow_exists(follower_id=viewer_id, followee_id=owner.pk)


_NO_RELATIONSHIP = {
    "following": False,
    "requested": False,
    "followed_by": False,
    "blocking": False,
    "muting": False,
}


def relationship_get(*, viewer: Viewer, other: User) -> dict[str, bool]:
    """What the follow button and the profile page need to know, in one query."""
    viewer_id = viewer_id_of(viewer)
    if viewer_id is None or viewer_id == other.pk:
        return dict(_NO_RELATIONSHIP)
    row = (
        User.objects.filter(pk=other.pk)
        .annotate(
            following=Exists(Follow.objects.filter(follower_id=viewer_id, followee_id=other.pk)),
            requested=Exists(FollowRequest.objects.filter(requester_id=viewer_id, target_id=other.pk)),
            followed_by=Exists(Follow.objects.filter(follower_id=other.pk, followee_id=viewer_id)),
            blocking=Exists(Block.objects.filter(blocker_id=viewer_id, blocked_id=other.pk)),
            muting=Exists(Mute.objects.filter(active_mutes_q(), muter_id=viewer_id, muted_id=other.pk)),
        )
        .values(*_NO_RELATIONSHIP)
        .get()
    )
    return {key: bool(value) for key, value in row.items()}
