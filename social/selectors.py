"""Reads for the social app, always scoped to the viewer.

Who may see a post (``visible_posts_q``):
- nobody sees posts that are deleted, hidden by a moderator, or by a suspended author;
- nobody sees anything across a block, in either direction;
- the author sees their own posts; a mentioned user sees the post whatever its visibility;
- a follower sees public and followers-only posts;
- anyone else (signed in or not) sees public posts of public accounts only.
Feeds additionally drop muted people's posts and reposts.

Feeds return plain dicts built from ``values()`` rows (``post_rows``): the API returns them as
they are and the pages render them, so a page of 20 costs the same handful of queries and no
model objects on the hot path (see social/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.templatetags.static import static
from django.utils import timezone

from accounts.models import User
from config.errors import NotFoundError
from social.models import (
    Block,
    Bookmark,
    Follow,
    FollowRequest,
    Hashtag,
    Like,
    Mention,
    Mute,
    Notification,
    Post,
    PostEdit,
    PostImage,
    Repost,
    TimelineEntry,
)

Viewer = User | AnonymousUser | None


def _viewer_id(viewer: Viewer) -> int | None:
    if viewer is None or not viewer.is_authenticated:
        return None
    return int(viewer.pk)


# --- Relationships ------------------------------------------------------------------------------


def is_blocked_between(*, a_id: int, b_id: int) -> bool:
    """True when either user blocks the other."""
    return Block.objects.filter(
        Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)
    ).exists()


def is_following(*, follower_id: int, followee_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


def active_mutes_q(prefix: str = "") -> Q:
    """Mutes still in force, for a queryset of ``Mute`` (``prefix`` for a related lookup)."""
    return Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": timezone.now()})


def _blocked_either_way(viewer_id: int, user_ref: str) -> Q:
    """A Q matching rows whose ``user_ref`` user blocks the viewer or is blocked by them."""
    return Q(Exists(Block.objects.filter(blocker_id=viewer_id, blocked_id=OuterRef(user_ref)))) | Q(
        Exists(Block.objects.filter(blocker_id=OuterRef(user_ref), blocked_id=viewer_id))
    )


def _muted(viewer_id: int, user_ref: str) -> Exists:
    return Exists(Mute.objects.filter(active_mutes_q(), muter_id=viewer_id, muted_id=OuterRef(user_ref)))


def visible_posts_q(viewer: Viewer, prefix: str = "") -> Q:
    """A Q over posts (``prefix`` "post__" over a related post) of what ``viewer`` may see."""
    p = prefix
    live = Q(**{f"{p}deleted_at__isnull": True, f"{p}hidden_at__isnull": True, f"{p}author__is_active": True})
    public = Q(**{f"{p}visibility": Post.Visibility.PUBLIC, f"{p}author__profile__is_private": False})
    viewer_id = _viewer_id(viewer)
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
    return live & may_see & ~_blocked_either_way(viewer_id, f"{p}author_id")


def can_view_post(*, viewer: Viewer, post: Post) -> bool:
    return Post.objects.filter(visible_posts_q(viewer), pk=post.pk).exists()


def post_get_for_user(*, user: Viewer, post_id: int) -> Post:
    """The post if ``user`` may see it; NotFoundError otherwise (never reveals that it exists)."""
    post = (
        Post.objects.filter(visible_posts_q(user), pk=post_id)
        .select_related("author", "author__profile", "reply_to", "root")
        .first()
    )
    if post is None:
        raise NotFoundError("This post does not exist or you cannot see it.")
    return post


def user_get_visible(*, viewer: Viewer, handle: str) -> User:
    """The active user with ``handle`` unless a block stands between them and ``viewer``."""
    user = User.objects.filter(handle__iexact=handle, is_active=True).select_related("profile").first()
    viewer_id = _viewer_id(viewer)
    if user is None or (
        viewer_id is not None and viewer_id != user.pk and is_blocked_between(a_id=viewer_id, b_id=user.pk)
    ):
        raise NotFoundError("No such user.")
    return user


def can_see_profile_posts(*, viewer: Viewer, owner: User) -> bool:
    """A private account's posts are for its followers (and the owner) only."""
    viewer_id = _viewer_id(viewer)
    if viewer_id == owner.pk or not owner.profile.is_private:
        return True
    return viewer_id is not None and is_following(follower_id=viewer_id, followee_id=owner.pk)


def relationship_for(*, viewer: Viewer, other: User) -> dict[str, bool]:
    """What the follow button and the profile page need to know, in one query."""
    viewer_id = _viewer_id(viewer)
    if viewer_id is None or viewer_id == other.pk:
        return {
            "following": False,
            "requested": False,
            "followed_by": False,
            "blocking": False,
            "muting": False,
        }
    row = (
        User.objects.filter(pk=other.pk)
        .annotate(
            following=Exists(Follow.objects.filter(follower_id=viewer_id, followee_id=other.pk)),
            requested=Exists(FollowRequest.objects.filter(requester_id=viewer_id, target_id=other.pk)),
            followed_by=Exists(Follow.objects.filter(follower_id=other.pk, followee_id=viewer_id)),
            blocking=Exists(Block.objects.filter(blocker_id=viewer_id, blocked_id=other.pk)),
            muting=Exists(Mute.objects.filter(active_mutes_q(), muter_id=viewer_id, muted_id=other.pk)),
        )
        .values("following", "requested", "followed_by", "blocking", "muting")
        .get()
    )
    return {key: bool(value) for key, value in row.items()}


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


def followers_list(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    """Rows (newest first) of who follows ``owner``; for a private account only its followers see it."""
    if not can_see_profile_posts(viewer=viewer, owner=owner):
        return Follow.objects.none().values()
    qs = Follow.objects.filter(followee=owner, follower__is_active=True)
    viewer_id = _viewer_id(viewer)
    if viewer_id is not None:
        qs = qs.exclude(_blocked_either_way(viewer_id, "follower_id"))
    return _user_rows(qs, "follower__")


def following_list(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    if not can_see_profile_posts(viewer=viewer, owner=owner):
        return Follow.objects.none().values()
    qs = Follow.objects.filter(follower=owner, followee__is_active=True)
    viewer_id = _viewer_id(viewer)
    if viewer_id is not None:
        qs = qs.exclude(_blocked_either_way(viewer_id, "followee_id"))
    return _user_rows(qs, "followee__")


def follow_requests_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(FollowRequest.objects.filter(target=user, requester__is_active=True), "requester__")


def blocks_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(Block.objects.filter(blocker=user), "blocked__")


def mutes_list(*, user: User) -> QuerySet[Any]:
    return _user_rows(Mute.objects.filter(active_mutes_q(), muter=user), "muted__", "expires_at")


# --- Posts as rows ------------------------------------------------------------------------------

_POST_PATHS = {
    "p_id": "id",
    "p_text": "text",
    "p_html": "html",
    "p_visibility": "visibility",
    "p_content_warning": "content_warning",
    "p_reply_to_id": "reply_to_id",
    "p_root_id": "root_id",
    "p_is_pinned": "is_pinned",
    "p_created_at": "created_at",
    "p_edited_at": "edited_at",
    "p_like_count": "like_count",
    "p_reply_count": "reply_count",
    "p_repost_count": "repost_count",
    "p_author_id": "author_id",
    "p_author_handle": "author__handle",
    "p_author_name": "author__profile__display_name",
    "p_author_avatar": "author__profile__avatar_small",
}


def _annotate_post_rows(qs: QuerySet[Any], viewer: Viewer, prefix: str) -> QuerySet[Any]:
    """``values()`` of the post fields (aliased ``p_*``) plus the viewer's like/repost/bookmark flags."""
    viewer_id = _viewer_id(viewer)
    post_ref = f"{prefix}id"
    if viewer_id is not None:
        qs = qs.annotate(
            p_liked=Exists(Like.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
            p_reposted=Exists(Repost.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
            p_bookmarked=Exists(Bookmark.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
        )
        flags = ["p_liked", "p_reposted", "p_bookmarked"]
    else:
        flags = []
    return qs.values(*flags, "created_at", **{alias: F(prefix + path) for alias, path in _POST_PATHS.items()})


def _media_url(path: str | None) -> str | None:
    return f"{settings.MEDIA_URL}{path}" if path else None


@lru_cache(maxsize=1)
def _default_avatar() -> str:
    return static("img/avatar-default.svg")


def avatar_url(path: str | None) -> str:
    """The small avatar's URL, or the default picture."""
    return f"{settings.MEDIA_URL}{path}" if path else _default_avatar()


def post_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turns ``values()`` rows into the post (or timeline item) dicts the API and pages share.

    Costs one query for the images of every post in ``rows`` together.
    """
    rows = list(rows)
    ids = [row["p_id"] for row in rows]
    images: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for image in PostImage.objects.filter(post_id__in=ids).values(
            "post_id", "image", "width", "height", "alt_text"
        ):
            images.setdefault(image["post_id"], []).append(
                {
                    "url": _media_url(image["image"]),
                    "width": image["width"],
                    "height": image["height"],
                    "alt_text": image["alt_text"],
                }
            )
    out = []
    for row in rows:
        post = {
            "id": row["p_id"],
            "author": {
                "id": row["p_author_id"],
                "handle": row["p_author_handle"],
                "display_name": row["p_author_name"] or row["p_author_handle"],
                "avatar_url": avatar_url(row["p_author_avatar"]),
            },
            "text": row["p_text"],
            "html": row["p_html"],
            "visibility": row["p_visibility"],
            "content_warning": row["p_content_warning"],
            "reply_to_id": row["p_reply_to_id"],
            "root_id": row["p_root_id"],
            "is_pinned": row["p_is_pinned"],
            "created_at": row["p_created_at"],
            "edited_at": row["p_edited_at"],
            "like_count": row["p_like_count"],
            "reply_count": row["p_reply_count"],
            "repost_count": row["p_repost_count"],
            "liked": bool(row.get("p_liked", False)),
            "reposted": bool(row.get("p_reposted", False)),
            "bookmarked": bool(row.get("p_bookmarked", False)),
            "images": images.get(row["p_id"], []),
        }
        out.append(post)
    return out


def _post_queryset(viewer: Viewer) -> QuerySet[Post]:
    qs = Post.objects.filter(visible_posts_q(viewer))
    viewer_id = _viewer_id(viewer)
    if viewer_id is not None:
        qs = qs.exclude(Q(_muted(viewer_id, "author_id")) & ~Q(author_id=viewer_id))
    return qs


def home_feed(*, user: User) -> QuerySet[Any]:
    """The viewer's home timeline, newest first: their own and followed people's posts and reposts.

    Reads the precomputed ``TimelineEntry`` rows (fan-out on write) with nothing but an index
    range scan on ``(owner, -created_at)``; paginate this, then pass the page to
    ``home_feed_items``, which loads the posts and drops what the viewer may no longer see.
    """
    return TimelineEntry.objects.filter(owner_id=user.pk).values(
        "id",
        "created_at",
        "post_id",
        "actor_id",
        reposter_handle=F("reposter__handle"),
        reposter_name=F("reposter__profile__display_name"),
    )


def home_feed_items(*, user: User, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline items for a page of ``home_feed`` rows: one query (two on SQLite) whatever its size.

    Posts deleted or hidden since, by suspended authors, across a block, no longer visible
    (unfollowed) or by muted people, and reposts by muted people, are left out here, so a
    page may hold fewer items than its size; the cursor stays on the timeline, so paging is
    still stable.
    """
    entries = list(entries)
    post_ids = sorted({e["post_id"] for e in entries})
    if connection.vendor == "postgresql":
        rows, muted = _home_posts_postgres(viewer_id=int(user.pk), post_ids=post_ids)
    else:
        rows = post_rows(_annotate_post_rows(_post_queryset(user).filter(pk__in=post_ids), user, ""))
        muted = set(
            Mute.objects.filter(active_mutes_q(), muter_id=user.pk).values_list("muted_id", flat=True)
        )
    posts = {row["id"]: row for row in rows}
    items = []
    for entry in entries:
        if entry["actor_id"] in muted and entry["actor_id"] != user.pk:
            continue
        post = posts.get(entry["post_id"])
        if post is None:
            continue
        reposter = entry["reposter_handle"]
        items.append(
            {
                "id": entry["id"],
                "created_at": entry["created_at"],
                "reposted_by": {"handle": reposter, "display_name": entry["reposter_name"] or reposter}
                if reposter
                else None,
                "post": post,
            }
        )
    return items


# The hot path of the home feed in one hand-written statement: the ORM spends longer building the
# equivalent query (visibility, blocks, mutes, flags) than PostgreSQL spends running it. It must
# say exactly what ``visible_posts_q`` and ``_post_queryset`` say (the visibility tests run on it).
_HOME_POSTS_SQL = """
SELECT p.id, p.text, p.html, p.visibility, p.content_warning, p.reply_to_id, p.root_id, p.is_pinned,
       p.created_at, p.edited_at, p.like_count, p.reply_count, p.repost_count, p.author_id,
       u.handle, pr.display_name, pr.avatar_small,
       EXISTS (SELECT 1 FROM social_like l WHERE l.post_id = p.id AND l.user_id = %(v)s),
       EXISTS (SELECT 1 FROM social_repost r WHERE r.post_id = p.id AND r.user_id = %(v)s),
       EXISTS (SELECT 1 FROM social_bookmark b WHERE b.post_id = p.id AND b.user_id = %(v)s),
       (SELECT json_agg(json_build_object('image', i.image, 'width', i.width, 'height', i.height,
                                          'alt_text', i.alt_text) ORDER BY i.position, i.id)
          FROM social_postimage i WHERE i.post_id = p.id),
       (SELECT array_agg(m.muted_id) FROM social_mute m
         WHERE m.muter_id = %(v)s AND (m.expires_at IS NULL OR m.expires_at > now()))
FROM social_post p
JOIN accounts_user u ON u.id = p.author_id
LEFT JOIN accounts_profile pr ON pr.user_id = p.author_id
WHERE p.id = ANY(%(ids)s)
  AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND u.is_active
  AND NOT EXISTS (SELECT 1 FROM social_block bl
                  WHERE (bl.blocker_id = %(v)s AND bl.blocked_id = p.author_id)
                     OR (bl.blocker_id = p.author_id AND bl.blocked_id = %(v)s))
  AND (p.author_id = %(v)s
       OR NOT EXISTS (SELECT 1 FROM social_mute m WHERE m.muter_id = %(v)s AND m.muted_id = p.author_id
                      AND (m.expires_at IS NULL OR m.expires_at > now())))
  AND (p.author_id = %(v)s
       OR (p.visibility = 'public' AND NOT COALESCE(pr.is_private, false))
       OR (p.visibility IN ('public', 'followers')
           AND EXISTS (SELECT 1 FROM social_follow f WHERE f.follower_id = %(v)s AND f.followee_id = p.author_id))
       OR EXISTS (SELECT 1 FROM social_mention mn WHERE mn.post_id = p.id AND mn.user_id = %(v)s))
"""


class _PreparingCursor(psycopg.Cursor[Any]):
    """A server-side-binding psycopg cursor whose statements are prepared on first use."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        # Needs a prepare_threshold that is not None (config/settings.py), or psycopg ignores it.
        return super().execute(query, params, prepare=True)


class _LoggedCursor(psycopg.Cursor[Any]):
    """The same statement unprepared: psycopg keeps no query text for a prepared execution,
    which Django's query log (DEBUG, tests' query counts) needs."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        # Even if this connection has prepared it already.
        return super().execute(query, params, prepare=False)


def _prepared_cursor() -> Any:
    """A Django cursor over a ``_PreparingCursor`` (over a ``_LoggedCursor`` while Django logs
    queries: DEBUG, tests' query counts).

    Django's own cursors bind parameters client-side, so PostgreSQL plans ``_HOME_POSTS_SQL``
    afresh on every request: 1.2 ms of planning for 0.5 ms of execution at 1M posts
    (bench/RESULTS.md). Prepared, each connection plans it once.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.queries_logged:
        raw: Any = _LoggedCursor(connection.connection)  # the stubs expect a wrapper; Django wraps it
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(_PreparingCursor(connection.connection))  # type: ignore[arg-type]


def _home_posts_postgres(*, viewer_id: int, post_ids: list[int]) -> tuple[list[dict[str, Any]], set[int]]:
    """The visible posts among ``post_ids`` as post dicts (flags and images included), and the
    ids of the people the viewer mutes (an uncorrelated subquery, computed once): one query."""
    if not post_ids:
        return [], set()
    with _prepared_cursor() as cursor:
        cursor.execute(_HOME_POSTS_SQL, {"v": viewer_id, "ids": post_ids})
        rows = cursor.fetchall()
    out = []
    muted: set[int] = set()
    for (
        post_id, text, html, visibility, content_warning, reply_to_id, root_id, is_pinned,
        created_at, edited_at, like_count, reply_count, repost_count, author_id,
        handle, display_name, avatar, liked, reposted, bookmarked, images, muted_ids,
    ) in rows:  # fmt: skip
        muted.update(muted_ids or [])
        out.append(
            {
                "id": post_id,
                "author": {
                    "id": author_id,
                    "handle": handle,
                    "display_name": display_name or handle,
                    "avatar_url": avatar_url(avatar),
                },
                "text": text,
                "html": html,
                "visibility": visibility,
                "content_warning": content_warning,
                "reply_to_id": reply_to_id,
                "root_id": root_id,
                "is_pinned": is_pinned,
                "created_at": created_at,
                "edited_at": edited_at,
                "like_count": like_count,
                "reply_count": reply_count,
                "repost_count": repost_count,
                "liked": liked,
                "reposted": reposted,
                "bookmarked": bookmarked,
                "images": [
                    {
                        "url": _media_url(image["image"]),
                        "width": image["width"],
                        "height": image["height"],
                        "alt_text": image["alt_text"],
                    }
                    for image in images or []
                ],
            }
        )
    return out, muted


def explore_feed(*, viewer: Viewer) -> QuerySet[Any]:
    """Public top-level posts of public accounts, newest first."""
    qs = _post_queryset(viewer).filter(
        reply_to__isnull=True, visibility=Post.Visibility.PUBLIC, author__profile__is_private=False
    )
    return _annotate_post_rows(qs, viewer, "")


def profile_feed(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    """``owner``'s top-level posts that ``viewer`` may see (none of a private account's for strangers)."""
    if not can_see_profile_posts(viewer=viewer, owner=owner):
        return Post.objects.none().values()
    qs = Post.objects.filter(visible_posts_q(viewer), author=owner, reply_to__isnull=True)
    return _annotate_post_rows(qs, viewer, "")


def pinned_post(*, viewer: Viewer, owner: User) -> dict[str, Any] | None:
    if not can_see_profile_posts(viewer=viewer, owner=owner):
        return None
    qs = Post.objects.filter(visible_posts_q(viewer), author=owner, is_pinned=True)
    rows = post_rows(_annotate_post_rows(qs, viewer, "")[:1])
    return rows[0] if rows else None


def hashtag_feed(*, viewer: Viewer, tag: str) -> QuerySet[Any]:
    qs = _post_queryset(viewer).filter(
        Exists(Hashtag.posts.through.objects.filter(post_id=OuterRef("id"), hashtag__name=tag.lower()))
    )
    return _annotate_post_rows(qs, viewer, "")


def bookmarks_feed(*, user: User) -> QuerySet[Any]:
    qs = Bookmark.objects.filter(visible_posts_q(user, "post__"), user=user)
    return _annotate_post_rows(qs, user, "post__")


def post_row(*, viewer: Viewer, post_id: int) -> dict[str, Any]:
    """One post as a dict, if ``viewer`` may see it."""
    rows = post_rows(
        _annotate_post_rows(Post.objects.filter(visible_posts_q(viewer), pk=post_id), viewer, "")
    )
    if not rows:
        raise NotFoundError("This post does not exist or you cannot see it.")
    return rows[0]


def replies_feed(*, viewer: Viewer, post: Post) -> QuerySet[Any]:
    """Direct replies to ``post`` that ``viewer`` may see (callers check ``post`` itself first)."""
    return _annotate_post_rows(_post_queryset(viewer).filter(reply_to=post), viewer, "")


def thread_rows(*, viewer: Viewer, post: Post, limit: int = 200) -> list[dict[str, Any]]:
    """The visible posts of ``post``'s thread below it, depth-first, each with ``depth``.

    A reply whose parent the viewer cannot see is left out with its subtree.
    """
    root_id = post.root_id or post.pk
    qs = _post_queryset(viewer).filter(root_id=root_id).order_by("created_at", "id")
    rows = post_rows(_annotate_post_rows(qs, viewer, "")[:limit])
    children: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["reply_to_id"], []).append(row)
    out: list[dict[str, Any]] = []

    def walk(parent_id: int, depth: int) -> None:
        for child in children.get(parent_id, []):
            child["depth"] = min(depth, 6)
            out.append(child)
            walk(child["id"], depth + 1)

    walk(post.pk, 0)
    return out


def ancestors_rows(*, viewer: Viewer, post: Post) -> list[dict[str, Any]]:
    """The visible posts above ``post`` in its thread, root first."""
    ids: list[int] = []
    current = post.reply_to
    while current is not None and len(ids) < 50:
        ids.append(current.pk)
        current = current.reply_to
    if not ids:
        return []
    rows = {
        row["id"]: row
        for row in post_rows(_annotate_post_rows(_post_queryset(viewer).filter(pk__in=ids), viewer, ""))
    }
    return [rows[i] for i in reversed(ids) if i in rows]


def post_edit_history(*, viewer: Viewer, post_id: int) -> QuerySet[PostEdit]:
    post = post_get_for_user(user=viewer, post_id=post_id)
    return PostEdit.objects.filter(post=post).only("id", "text", "content_warning", "created_at")


# --- Notifications -------------------------------------------------------------------------------


def notifications_list(*, user: User) -> QuerySet[Any]:
    """The user's notifications, newest first, without those from people they block or mute now."""
    qs = (
        Notification.objects.filter(recipient=user, actor__is_active=True)
        .exclude(_muted(user.pk, "actor_id"))
        .exclude(_blocked_either_way(user.pk, "actor_id"))
    )
    return qs.values(
        "id",
        "kind",
        "created_at",
        "read_at",
        "post_id",
        actor_handle=F("actor__handle"),
        actor_name=F("actor__profile__display_name"),
        actor_avatar=F("actor__profile__avatar_small"),
        post_text=F("post__text"),
    )


def notification_dicts(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "kind": row["kind"],
            "created_at": row["created_at"],
            "read": row["read_at"] is not None,
            "actor": {
                "handle": row["actor_handle"],
                "display_name": row["actor_name"] or row["actor_handle"],
                "avatar_url": avatar_url(row["actor_avatar"]),
            },
            "post_id": row["post_id"],
            "post_excerpt": (row["post_text"] or "")[:140] if row["post_id"] else None,
        }
        for row in rows
    ]


def notifications_unread_count(*, user: User) -> int:
    return notifications_list(user=user).filter(read_at__isnull=True).count()


def notification_groups(*, user: User, limit: int = 50) -> list[dict[str, Any]]:
    """Unread notifications grouped by (kind, post): "alice and 3 others liked your post".

    Two queries whatever the number of notifications: the groups, then their latest actors.
    """
    from django.db.models import Count, Max

    groups = list(
        notifications_list(user=user)
        .filter(read_at__isnull=True)
        .values("kind", "post_id")
        .annotate(count=Count("id"), latest=Max("created_at"))
        .order_by("-latest")[:limit]
    )
    return groups


# --- Search ------------------------------------------------------------------------------------------


def search_users(*, viewer: Viewer, query: str) -> QuerySet[Any]:
    query = query.strip().lstrip("@")
    qs = User.objects.filter(is_active=True).filter(
        Q(handle__icontains=query) | Q(profile__display_name__icontains=query)
    )
    viewer_id = _viewer_id(viewer)
    if viewer_id is not None:
        qs = qs.exclude(_blocked_either_way(viewer_id, "id"))
    return qs.values(
        "id",
        "handle",
        "date_joined",
        display_name=F("profile__display_name"),
        avatar=F("profile__avatar_small"),
    ).order_by("handle")


def search_posts(*, viewer: Viewer, query: str) -> QuerySet[Any]:
    """Posts matching ``query`` (PostgreSQL full-text search; ``icontains`` on SQLite)."""
    qs = _post_queryset(viewer)
    if settings.IS_POSTGRES:
        qs = qs.annotate(search=SearchVector("text", config="english")).filter(
            search=SearchQuery(query, config="english", search_type="websearch")
        )
    else:
        qs = qs.filter(text__icontains=query)
    return _annotate_post_rows(qs, viewer, "")


def search_hashtags(*, query: str) -> QuerySet[Any]:
    query = query.strip().lstrip("#").lower()
    return Hashtag.objects.filter(name__startswith=query).values("id", "name").order_by("name")
