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

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
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
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import User
from config.api import KeysetCursor
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


@dataclass(frozen=True)
class TimelinePage:
    """A page of the viewer's home timeline, newest first, and the cursors around it.

    ``items_json`` holds each item as JSON text in the API's ``TimelineItem`` shape: on
    PostgreSQL the database writes it, so the API sends it as it is; pages call ``items()``.
    Entries the viewer may no longer see are left out, so a page may hold fewer items than its
    size; the cursors follow the timeline's own rows, so paging stays stable.
    """

    items_json: list[str]
    next: KeysetCursor | None
    previous: KeysetCursor | None

    def items(self) -> list[dict[str, Any]]:
        """The items as dicts, with datetimes (for templates)."""
        items = [json.loads(item) for item in self.items_json]
        for item in items:
            item["created_at"] = datetime.fromisoformat(item["created_at"])
            post = item["post"]
            post["created_at"] = datetime.fromisoformat(post["created_at"])
            if post["edited_at"]:
                post["edited_at"] = datetime.fromisoformat(post["edited_at"])
        return items


# (entry id, entry created_at in microseconds, item JSON or None when the viewer may not see it)
_TimelineRow = tuple[int, int, str | None]


def home_feed_page(*, user: User, cursor: KeysetCursor | None = None, size: int = 20) -> TimelinePage:
    """One page of ``user``'s home timeline: their own and followed people's posts and reposts.

    Reads the precomputed ``TimelineEntry`` rows (fan-out on write): on PostgreSQL one prepared
    statement reads the page's range of the ``(owner, -created_at, -id)`` index and, for those
    rows only, the posts with the viewer's flags and images, re-checking visibility, blocks and
    mutes (posts deleted or hidden since, by suspended authors, across a block, no longer
    visible after an unfollow, by muted people, and reposts by muted or suspended people are
    left out).
    """
    started = cursor is not None
    cursor = cursor or KeysetCursor.start()
    if connection.vendor == "postgresql":
        rows = _home_rows_postgres(viewer_id=int(user.pk), cursor=cursor, limit=size + 1)
    else:
        rows = _home_rows_orm(user=user, cursor=cursor, limit=size + 1)
    more, rows = len(rows) > size, rows[:size]
    if cursor.newer:
        rows.reverse()
    items = [item for _, _, item in rows if item is not None]
    if not rows:
        return TimelinePage(items_json=[], next=None, previous=None)
    (first_id, first_at, _), (last_id, last_at, _) = rows[0], rows[-1]
    older = KeysetCursor(created_at_us=last_at, id=last_id)
    newer = KeysetCursor(created_at_us=first_at, id=first_id, newer=True)
    if cursor.newer:
        return TimelinePage(items_json=items, next=older, previous=newer if more else None)
    return TimelinePage(items_json=items, next=older if more else None, previous=newer if started else None)


def _iso(column: str) -> str:
    """SQL for a timestamp as the API writes it (DRF: ISO 8601 in UTC with a "Z", no fraction
    when there are no microseconds); NULL stays NULL."""
    utc = f"{column} AT TIME ZONE 'UTC'"
    return (
        f"CASE WHEN mod(extract(microseconds FROM {column})::bigint, 1000000) = 0 "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


# The home feed in one hand-written statement: the ORM spends longer building the equivalent
# query (visibility, blocks, mutes, flags, JSON) than PostgreSQL spends running it. It must say
# exactly what ``visible_posts_q``, ``_post_queryset`` and ``post_rows`` say: the visibility
# tests run on it, and a test compares its pages with ``_home_rows_orm``'s.
_HOME_SQL = """
WITH page AS MATERIALIZED (
    SELECT t.id, t.created_at, t.post_id, t.actor_id, t.reposter_id
    FROM social_timelineentry t
    WHERE t.owner_id = %(v)s::bigint AND (t.created_at, t.id) {compare} (%(at)s::timestamptz, %(id)s::bigint)
    ORDER BY t.created_at {order}, t.id {order}
    LIMIT %(limit)s::integer
)
SELECT t.id, (extract(epoch FROM t.created_at) * 1000000)::bigint,
       CASE WHEN vp.post IS NULL
                 OR NOT COALESCE(ru.is_active, true)
                 OR (t.actor_id <> %(v)s::bigint AND EXISTS (
                     SELECT 1 FROM social_mute m WHERE m.muter_id = %(v)s::bigint AND m.muted_id = t.actor_id
                        AND (m.expires_at IS NULL OR m.expires_at > now())))
            THEN NULL
            ELSE json_build_object(
                'id', t.id,
                'created_at', {entry_created_at},
                'reposted_by', CASE WHEN t.reposter_id IS NULL THEN NULL ELSE json_build_object(
                    'handle', ru.handle, 'display_name', COALESCE(NULLIF(rpr.display_name, ''), ru.handle)) END,
                'post', vp.post)::text
       END
FROM page t
LEFT JOIN LATERAL (
    SELECT json_build_object(
        'id', p.id,
        'author', json_build_object(
            'id', p.author_id,
            'handle', u.handle,
            'display_name', COALESCE(NULLIF(pr.display_name, ''), u.handle),
            'avatar_url', CASE WHEN pr.avatar_small <> '' THEN %(media)s::text || pr.avatar_small
                               ELSE %(default_avatar)s::text END),
        'text', p.text, 'html', p.html, 'visibility', p.visibility, 'content_warning', p.content_warning,
        'reply_to_id', p.reply_to_id, 'root_id', p.root_id, 'is_pinned', p.is_pinned,
        'created_at', {post_created_at}, 'edited_at', {post_edited_at},
        'like_count', p.like_count, 'reply_count', p.reply_count, 'repost_count', p.repost_count,
        'liked', EXISTS (SELECT 1 FROM social_like l WHERE l.post_id = p.id AND l.user_id = %(v)s::bigint),
        'reposted', EXISTS (SELECT 1 FROM social_repost r WHERE r.post_id = p.id AND r.user_id = %(v)s::bigint),
        'bookmarked', EXISTS (SELECT 1 FROM social_bookmark b WHERE b.post_id = p.id AND b.user_id = %(v)s::bigint),
        'images', COALESCE((SELECT json_agg(json_build_object('url', %(media)s::text || i.image, 'width', i.width,
                                                              'height', i.height, 'alt_text', i.alt_text)
                                            ORDER BY i.position, i.id)
                              FROM social_postimage i WHERE i.post_id = p.id), '[]'::json)
    ) AS post
    FROM social_post p
    JOIN accounts_user u ON u.id = p.author_id
    LEFT JOIN accounts_profile pr ON pr.user_id = p.author_id
    WHERE p.id = t.post_id
      AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND u.is_active
      AND NOT EXISTS (SELECT 1 FROM social_block bl
                      WHERE (bl.blocker_id = %(v)s::bigint AND bl.blocked_id = p.author_id)
                         OR (bl.blocker_id = p.author_id AND bl.blocked_id = %(v)s::bigint))
      AND (p.author_id = %(v)s::bigint
           OR NOT EXISTS (SELECT 1 FROM social_mute m WHERE m.muter_id = %(v)s::bigint AND m.muted_id = p.author_id
                          AND (m.expires_at IS NULL OR m.expires_at > now())))
      AND (p.author_id = %(v)s::bigint
           OR (p.visibility = 'public' AND NOT COALESCE(pr.is_private, false))
           OR (p.visibility IN ('public', 'followers')
               AND EXISTS (SELECT 1 FROM social_follow f
                           WHERE f.follower_id = %(v)s::bigint AND f.followee_id = p.author_id))
           OR EXISTS (SELECT 1 FROM social_mention mn WHERE mn.post_id = p.id AND mn.user_id = %(v)s::bigint))
) vp ON true
LEFT JOIN accounts_user ru ON ru.id = t.reposter_id
LEFT JOIN accounts_profile rpr ON rpr.user_id = t.reposter_id
ORDER BY t.created_at {order}, t.id {order}
"""
# Whitespace collapsed: psycopg caches its parse of statements up to 4 KB only.
_HOME_SQL_OLDER, _HOME_SQL_NEWER = (
    " ".join(
        _HOME_SQL.format(
            compare=compare,
            order=order,
            entry_created_at=_iso("t.created_at"),
            post_created_at=_iso("p.created_at"),
            post_edited_at=_iso("p.edited_at"),
        ).split()
    )
    for compare, order in (("<", "DESC"), (">", "ASC"))
)


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

    Django's own cursors bind parameters client-side, so PostgreSQL would plan ``_HOME_SQL``
    afresh on every request (at 1M posts planning cost more than running it, bench/RESULTS.md).
    Prepared, each connection plans it once.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.queries_logged:
        raw: Any = _LoggedCursor(connection.connection)  # the stubs expect a wrapper; Django wraps it
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(_PreparingCursor(connection.connection))  # type: ignore[arg-type]


def _home_rows_postgres(*, viewer_id: int, cursor: KeysetCursor, limit: int) -> list[_TimelineRow]:
    params = {
        "v": viewer_id,
        "at": cursor.created_at,
        "id": cursor.id,
        "limit": limit,
        "media": settings.MEDIA_URL,
        "default_avatar": _default_avatar(),
    }
    with _prepared_cursor() as db:
        db.execute(_HOME_SQL_NEWER if cursor.newer else _HOME_SQL_OLDER, params)
        return db.fetchall()


def _home_rows_orm(*, user: User, cursor: KeysetCursor, limit: int) -> list[_TimelineRow]:
    """What ``_home_rows_postgres`` returns, through the ORM (SQLite, and the tests' reference)."""
    at = cursor.created_at
    entries = TimelineEntry.objects.filter(owner_id=user.pk)
    if cursor.newer:
        entries = entries.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=cursor.id)).order_by(
            "created_at", "id"
        )
    else:
        entries = entries.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=cursor.id)).order_by(
            "-created_at", "-id"
        )
    page = list(
        entries.values(
            "id",
            "created_at",
            "post_id",
            "actor_id",
            reposter_handle=F("reposter__handle"),
            reposter_name=F("reposter__profile__display_name"),
            reposter_active=F("reposter__is_active"),
        )[:limit]
    )
    post_ids = {entry["post_id"] for entry in page}
    posts = {
        post["id"]: post
        for post in post_rows(_annotate_post_rows(_post_queryset(user).filter(pk__in=post_ids), user, ""))
    }
    muted = set(Mute.objects.filter(active_mutes_q(), muter_id=user.pk).values_list("muted_id", flat=True))
    rows: list[_TimelineRow] = []
    for entry in page:
        post = posts.get(entry["post_id"])
        item = None
        shown = post is not None and entry["reposter_active"] is not False
        if shown and not (entry["actor_id"] in muted and entry["actor_id"] != user.pk):
            reposter = entry["reposter_handle"]
            item = {
                "id": entry["id"],
                "created_at": entry["created_at"],
                "reposted_by": {"handle": reposter, "display_name": entry["reposter_name"] or reposter}
                if reposter
                else None,
                "post": post,
            }
        position = KeysetCursor.at(entry["created_at"], entry["id"])
        rows.append(
            (entry["id"], position.created_at_us, json.dumps(item, cls=JSONEncoder) if item else None)
        )
    return rows


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
