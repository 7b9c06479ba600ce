"""The home timeline read: one hand-written statement per page, items written as JSON by
PostgreSQL, keyset cursors (see social/README.md, "Home feed").

The statement must mean what ``visible_posts_q``, ``post_queryset_for_feeds`` and
``presenters.post_present`` mean: its post JSON is built from ``POST_SQL``, whose keys are
the presenter's (``tests/test_presenters.py``), the visibility tests run on it, and
``tests/test_home_feed.py`` compares its pages with ``_home_rows_orm`` (the same page through
the ORM, which SQLite uses) for every relation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, Q
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import User
from config.api import KeysetCursor
from config.postgresql.prepared import prepared_cursor
from config.storage import media_is_remote
from social import presenters
from social.models import Follow, Mute, PulledAuthor, TimelineEntry
from social.selectors.posts import post_list_from_rows, post_queryset_for_feeds, post_values
from social.selectors.visibility import active_mutes_q


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
        return [item_from_json(item) for item in self.items_json]


def item_from_json(item_json: str) -> dict[str, Any]:
    """A timeline item PostgreSQL wrote as JSON, as the dict pages render (datetimes parsed)."""
    item: dict[str, Any] = json.loads(item_json)
    item["created_at"] = datetime.fromisoformat(item["created_at"])
    post = item["post"]
    post["created_at"] = datetime.fromisoformat(post["created_at"])
    if post["edited_at"]:
        post["edited_at"] = datetime.fromisoformat(post["edited_at"])
    return item


# (entry id, entry created_at in microseconds, item JSON or None when the viewer may not see it)
_TimelineRow = tuple[int, int, str | None]


def home_feed_page(*, user: User, cursor: KeysetCursor | None = None, size: int = 20) -> TimelinePage:
    """One page of ``user``'s home timeline: their own and followed people's posts and reposts.

    Reads the precomputed ``TimelineEntry`` rows (fan-out on write), merged with the pulled
    posts and reposts of the very-followed authors the user follows (``feeds.fanout``: not
    pushed, read here): on PostgreSQL one prepared statement reads the page's range of the
    ``(owner, -created_at, -id)`` index, and of each such author's pulled entries, and, for those
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


def iso_sql(column: str) -> str:
    """SQL for a timestamp as the API writes it (DRF: ISO 8601 in UTC with a "Z", no fraction
    when there are no microseconds); NULL stays NULL."""
    return (
        f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
        f"""date_trunc('second', {column}) = {column} THEN 'Z' ELSE to_char({column}, '.US"Z"') END"""
    )


# SQL for each key of ``presenters.post_present``, over ``social_post p``, its author
# ``accounts_user u`` and profile ``accounts_profile pr``; ``t.v`` is the viewer (a column of
# every page row: one placeholder instead of one per use keeps the statement under 4 KB).
POST_SQL: dict[str, str] = {
    "id": "p.id",
    "author": (
        "json_build_object('id', p.author_id, 'handle', u.handle,"
        " 'display_name', COALESCE(NULLIF(pr.display_name, ''), u.handle),"
        " 'avatar_url', CASE WHEN pr.avatar_small <> '' THEN %(m)s::text || pr.avatar_small"
        " ELSE %(da)s::text END)"
    ),
    "text": "p.text",
    "html": "p.html",
    "visibility": "p.visibility",
    "content_warning": "p.content_warning",
    "reply_to_id": "p.reply_to_id",
    "root_id": "p.root_id",
    "is_pinned": "p.is_pinned",
    "created_at": iso_sql("p.created_at"),
    "edited_at": iso_sql("p.edited_at"),
    "like_count": "p.like_count",
    "reply_count": "p.reply_count",
    "repost_count": "p.repost_count",
    "liked": "EXISTS (SELECT 1 FROM social_like l WHERE l.post_id = p.id AND l.user_id = t.v)",
    "reposted": "EXISTS (SELECT 1 FROM social_repost r WHERE r.post_id = p.id AND r.user_id = t.v)",
    "bookmarked": ("EXISTS (SELECT 1 FROM social_bookmark b WHERE b.post_id = p.id AND b.user_id = t.v)"),
    "repostable": "(p.visibility = 'public' AND NOT COALESCE(pr.is_private, false))",
    "images": (
        "COALESCE((SELECT json_agg(json_build_object('url', %(m)s::text || i.image, 'width', i.width,"
        " 'height', i.height, 'alt_text', i.alt_text) ORDER BY i.position, i.id)"
        " FROM social_postimage i WHERE i.post_id = p.id), '[]'::json)"
    ),
}
# The timeline item around it: keys of ``presenters.timeline_item_present``, over the entry ``t``
# and the reposter ``ru``/``rpr``.
ITEM_SQL: dict[str, str] = {
    "id": "t.id",
    "created_at": iso_sql("t.created_at"),
    "reposted_by": (
        "CASE WHEN t.reposter_id IS NULL THEN NULL ELSE json_build_object("
        "'handle', ru.handle, 'display_name', COALESCE(NULLIF(rpr.display_name, ''), ru.handle)) END"
    ),
    "post": "vp.post",
}


def json_object_sql(fields: dict[str, str]) -> str:
    return "json_build_object(" + ", ".join(f"'{key}', {expr}" for key, expr in fields.items()) + ")"


# The home feed in one hand-written statement: the ORM spends longer building the equivalent
# query (visibility, blocks, mutes, flags, JSON) than PostgreSQL spends running it. Mutes end
# at statement_timestamp(), the clock the ORM's timezone.now() reads, not now() (the start of
# the transaction, which may be older than a mute that just ran out).
#
# The page merges the viewer's own entries (pushed to them) with the pulled entries of the
# very-followed authors they follow (each such author's own entries marked ``pulled``, never
# pushed; read through the partial index ``social_timeline_pulled_page``): all are timeline
# rows, so their ids share one sequence and one keyset orders them, and the checks below apply
# to both alike. A post or repost is either pushed or pulled, never both (``feeds.fanout``).
# Pulled entries are never trimmed, so the merge reaches as far back as any page goes. The
# viewer's own post shows only as their own entry (``t.actor_id = t.v``): a push never writes
# anyone else's repost of it to its author, and a merged one is left out here.
_HOME_SQL = """
WITH page AS MATERIALIZED (
    SELECT t.*, z.v
    FROM (SELECT %(v)s::bigint AS v) z, LATERAL (
        (SELECT t.* FROM social_timelineentry t
         WHERE t.owner_id = z.v AND (t.created_at, t.id) {compare} (%(at)s::timestamptz, %(id)s::bigint)
         ORDER BY t.created_at {order}, t.id {order} LIMIT %(n)s::int)
        UNION ALL
        (SELECT m.* FROM social_pulledauthor pa
         JOIN social_follow pf ON pf.followee_id = pa.author_id AND pf.follower_id = z.v
         CROSS JOIN LATERAL (
             SELECT t.* FROM social_timelineentry t
             WHERE t.owner_id = pa.author_id AND t.pulled
               AND (t.created_at, t.id) {compare} (%(at)s::timestamptz, %(id)s::bigint)
             ORDER BY t.created_at {order}, t.id {order} LIMIT %(n)s::int
         ) m)
    ) t
    ORDER BY t.created_at {order}, t.id {order}
    LIMIT %(n)s::int
)
SELECT t.id, (extract(epoch FROM t.created_at) * 1000000)::bigint,
       CASE WHEN vp.post IS NULL
                 OR NOT COALESCE(ru.is_active, true)
                 OR (t.actor_id <> t.v AND EXISTS (
                     SELECT 1 FROM social_mute m WHERE m.muter_id = t.v AND m.muted_id = t.actor_id
                        AND COALESCE(m.expires_at, 'infinity') > statement_timestamp()))
            THEN NULL
            ELSE {item}::text
       END
FROM page t
LEFT JOIN LATERAL (
    SELECT {post} AS post
    FROM social_post p
    JOIN accounts_user u ON u.id = p.author_id
    LEFT JOIN accounts_profile pr ON pr.user_id = p.author_id
    WHERE p.id = t.post_id
      AND p.deleted_at IS NULL AND p.hidden_at IS NULL AND u.is_active
      AND NOT EXISTS (SELECT 1 FROM social_block bl
                      WHERE (bl.blocker_id = t.v AND bl.blocked_id = p.author_id)
                         OR (bl.blocker_id = p.author_id AND bl.blocked_id = t.v))
      AND CASE WHEN p.author_id = t.v THEN t.actor_id = t.v
               ELSE NOT EXISTS (SELECT 1 FROM social_mute m WHERE m.muter_id = t.v AND m.muted_id = p.author_id
                                AND COALESCE(m.expires_at, 'infinity') > statement_timestamp()) END
      AND (p.author_id = t.v
           OR (p.visibility = 'public' AND NOT COALESCE(pr.is_private, false))
           OR (p.visibility IN ('public', 'followers')
               AND EXISTS (SELECT 1 FROM social_follow f
                           WHERE f.follower_id = t.v AND f.followee_id = p.author_id))
           OR EXISTS (SELECT 1 FROM social_mention mn WHERE mn.post_id = p.id AND mn.user_id = t.v))
) vp ON true
LEFT JOIN accounts_user ru ON ru.id = t.reposter_id
LEFT JOIN accounts_profile rpr ON rpr.user_id = t.reposter_id
ORDER BY t.created_at {order}, t.id {order}
"""
# Whitespace collapsed: psycopg caches its parse of statements up to 4 KB only.
_HOME_SQL_OLDER, _HOME_SQL_NEWER = (
    " ".join(
        _HOME_SQL.format(
            compare=compare, order=order, item=json_object_sql(ITEM_SQL), post=json_object_sql(POST_SQL)
        ).split()
    )
    for compare, order in (("<", "DESC"), (">", "ASC"))
)


def _home_rows_postgres(*, viewer_id: int, cursor: KeysetCursor, limit: int) -> list[_TimelineRow]:
    params = {
        "v": viewer_id,
        "at": cursor.created_at,
        "id": cursor.id,
        "n": limit,
        "m": presenters.media_sql_prefix(),
        "da": presenters.default_avatar_url(),
    }
    with prepared_cursor() as db:
        db.execute(_HOME_SQL_NEWER if cursor.newer else _HOME_SQL_OLDER, params)
        rows: list[_TimelineRow] = db.fetchall()
    if not media_is_remote():
        return rows
    # In a bucket, media URLs are signed here, in Python: PostgreSQL wrote the bare file names.
    return [
        (id_, at, presenters.timeline_item_json_sign_media(item) if item else None) for id_, at, item in rows
    ]


def _home_rows_orm(*, user: User, cursor: KeysetCursor, limit: int) -> list[_TimelineRow]:
    """What ``_home_rows_postgres`` returns, through the ORM (SQLite, and the tests' reference)."""
    at = cursor.created_at
    muted = set(Mute.objects.filter(active_mutes_q(), muter_id=user.pk).values_list("muted_id", flat=True))
    pulled_followees = Follow.objects.filter(
        follower_id=user.pk, followee_id__in=PulledAuthor.objects.values("author_id")
    )
    entries = TimelineEntry.objects.filter(
        Q(owner_id=user.pk) | Q(pulled=True, owner_id__in=pulled_followees.values("followee_id"))
    )
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
            post_author_id=F("post__author_id"),
            reposter_handle=F("reposter__handle"),
            reposter_name=F("reposter__profile__display_name"),
            reposter_active=F("reposter__is_active"),
        )[:limit]
    )
    post_ids = {entry["post_id"] for entry in page}
    posts = {
        post["id"]: post
        for post in post_list_from_rows(
            post_values(post_queryset_for_feeds(user).filter(pk__in=post_ids), user)
        )
    }
    rows: list[_TimelineRow] = []
    for entry in page:
        post = posts.get(entry["post_id"])
        item = None
        muted_actor = entry["actor_id"] in muted and entry["actor_id"] != user.pk
        # Someone else's repost of the viewer's own post (merged from a pulled reposter).
        own_reposted = entry["post_author_id"] == user.pk and entry["actor_id"] != user.pk
        if post is not None and entry["reposter_active"] is not False and not (muted_actor or own_reposted):
            reposter = entry["reposter_handle"]
            item = presenters.timeline_item_present(
                id=entry["id"],
                created_at=entry["created_at"],
                reposted_by=presenters.reposter_present(handle=reposter, display_name=entry["reposter_name"])
                if reposter
                else None,
                post=post,
            )
        position = KeysetCursor.at(entry["created_at"], entry["id"])
        rows.append(
            (entry["id"], position.created_at_us, json.dumps(item, cls=JSONEncoder) if item else None)
        )
    return rows
