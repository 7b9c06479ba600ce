"""The profile page's reads: two hand-written statements, as the home feed's (``feeds.home``).

A profile page showed eight queries, most of its worker CPU being the ORM building them (the
post list's ``post_values`` + ``visible_posts_q``, DRF's cursor paginator, the pinned post's
query, the relationship's five ``Exists``: bench/RESULTS.md, "HTML pages"). Here:

- ``profile_header_get``: one statement for what the page shows around the posts: whether a
  block stands between viewer and owner (the page is then a 404), the relationship flags of the
  follow button (``selectors.relationship_get``), the counts (``selectors.profile_counts_get``)
  and whether the viewer may see the posts at all (``selectors.profile_posts_visible``);
- ``profile_posts_page``: one prepared statement for a page of the owner's top-level posts and
  their pinned post, items written as JSON by PostgreSQL from ``feeds.home.POST_SQL`` (the
  presenter's keys), keyset cursors over ``(created_at, id)``.

Both must mean what the ORM selectors mean: ``tests/test_profile_page.py`` compares them, over
every relation and a mix of visibilities, replies, reposts, blocks, mutes, hidden and deleted
posts, with ``_profile_rows_orm`` (the page through ``post_list_for_profile`` and
``post_get_pinned``, which SQLite uses) and with the selectors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q
from rest_framework.utils.encoders import JSONEncoder

from accounts.models import User
from config.api import KeysetCursor
from config.errors import NotFoundError
from config.postgresql.prepared import prepared_cursor
from config.storage import media_is_remote
from social import presenters
from social.feeds.home import ITEM_SQL, POST_SQL, iso_sql, item_from_json, json_object_sql
from social.selectors.discovery import profile_counts_get, profile_counts_sql
from social.selectors.posts import post_get_pinned, post_list_for_profile, post_list_from_rows
from social.selectors.visibility import (
    Viewer,
    block_exists_between,
    profile_posts_visible,
    relationship_get,
    viewer_id_of,
)

_NO_SUCH_USER = "No such user."


@dataclass(frozen=True)
class ProfileHeader:
    """What a profile page shows besides its posts: the follow button's ``relationship`` (all
    false for an anonymous viewer and on one's own profile), ``counts`` (``followers``,
    ``following``, ``posts``) and whether the viewer may see the posts (``can_see_posts``)."""

    relationship: dict[str, bool]
    counts: dict[str, int]
    can_see_posts: bool


# The viewer ``v`` (NULL when anonymous) and the owner ``o``: blocked either way, the flags of
# ``relationship_get`` in its key order, the three counts of ``profile_counts_get``. Mutes end at
# statement_timestamp(), as in the home feed's statement.
_HEADER_SQL_TEXT = """
SELECT EXISTS (SELECT 1 FROM social_block b WHERE (b.blocker_id = z.v AND b.blocked_id = z.o)
                                           OR (b.blocker_id = z.o AND b.blocked_id = z.v)),
       EXISTS (SELECT 1 FROM social_follow f WHERE f.follower_id = z.v AND f.followee_id = z.o),
       EXISTS (SELECT 1 FROM social_followrequest r WHERE r.requester_id = z.v AND r.target_id = z.o),
       EXISTS (SELECT 1 FROM social_follow f WHERE f.follower_id = z.o AND f.followee_id = z.v),
       EXISTS (SELECT 1 FROM social_block b WHERE b.blocker_id = z.v AND b.blocked_id = z.o),
       EXISTS (SELECT 1 FROM social_mute m WHERE m.muter_id = z.v AND m.muted_id = z.o
                  AND COALESCE(m.expires_at, 'infinity') > statement_timestamp()),
       {counts}
FROM (SELECT %(v)s::bigint AS v, %(o)s::bigint AS o) z
"""
_HEADER_SQL = " ".join(_HEADER_SQL_TEXT.format(counts=profile_counts_sql("z.o")).split())
_RELATIONSHIP_KEYS = ("following", "requested", "followed_by", "blocking", "muting")


def profile_header_get(*, viewer: Viewer, owner: User) -> ProfileHeader:
    """The header of ``owner``'s profile page for ``viewer``, in one query; NotFoundError when a
    block stands between them (as ``selectors.user_get_visible``). ``owner`` has its profile
    loaded (``selectors.user_get_by_handle``)."""
    viewer_id = viewer_id_of(viewer)
    is_me = viewer_id == owner.pk
    if connection.vendor != "postgresql":
        return _profile_header_orm(viewer=viewer, owner=owner)
    with prepared_cursor() as db:
        db.execute(_HEADER_SQL, {"v": viewer_id, "o": owner.pk})
        blocked, *flags, followers, following, posts = db.fetchone()
    if blocked and not is_me:
        raise NotFoundError(_NO_SUCH_USER)
    relationship = dict(zip(_RELATIONSHIP_KEYS, flags, strict=True))
    if viewer_id is None or is_me:
        relationship = dict.fromkeys(_RELATIONSHIP_KEYS, False)
    return ProfileHeader(
        relationship=relationship,
        counts={"followers": followers, "following": following, "posts": posts},
        can_see_posts=is_me or not owner.profile.is_private or relationship["following"],
    )


def _profile_header_orm(*, viewer: Viewer, owner: User) -> ProfileHeader:
    """What ``profile_header_get`` returns, through the selectors it replaces (SQLite, tests)."""
    viewer_id = viewer_id_of(viewer)
    if (
        viewer_id is not None
        and viewer_id != owner.pk
        and block_exists_between(a_id=viewer_id, b_id=owner.pk)
    ):
        raise NotFoundError(_NO_SUCH_USER)
    return ProfileHeader(
        relationship=relationship_get(viewer=viewer, other=owner),
        counts=profile_counts_get(owner=owner),
        can_see_posts=profile_posts_visible(viewer=viewer, owner=owner),
    )


@dataclass(frozen=True)
class ProfilePage:
    """A page of a profile's posts, newest first, as feed items (``presenters.feed_items_present``
    of ``post_present`` dicts) in JSON, the pinned post's (or None), and the next page's cursor."""

    items_json: list[str]
    pinned_json: str | None
    next: KeysetCursor | None

    def items(self) -> list[dict[str, Any]]:
        return [item_from_json(item) for item in self.items_json]

    def pinned(self) -> dict[str, Any] | None:
        """The pinned post (a ``post_present`` dict), for the page's "Pinned" card."""
        return item_from_json(self.pinned_json)["post"] if self.pinned_json else None


# (pinned, post id, created_at in microseconds, item JSON)
_ProfileRow = tuple[bool, int, int, str]

# Who may see which of the owner's posts: ``visible_posts_q`` for one author, whose facts the
# ``t`` row holds once (active, private, followed by the viewer, no block either way), plus
# ``profile_posts_visible`` (a private account's posts are for its followers and itself).
_VISIBLE = """p.author_id = t.o AND p.deleted_at IS NULL AND p.hidden_at IS NULL
  AND (p.author_id = t.v OR (p.visibility = 'public' AND NOT t.private)
       OR (p.visibility IN ('public', 'followers') AND t.follows)
       OR EXISTS (SELECT 1 FROM social_mention mn WHERE mn.post_id = p.id AND mn.user_id = t.v))"""

# The page (top-level posts only: replies live in threads; reposts are not the owner's posts)
# and, in the same statement, the pinned post (a unique partial index: at most one). The
# keyset is written as two comparisons so the ``(author, -created_at)`` index bounds the scan.
_PROFILE_SQL = """
WITH t AS MATERIALIZED (
    SELECT z.v, u.id AS o, COALESCE(pr.is_private, false) AS private,
           EXISTS (SELECT 1 FROM social_follow f WHERE f.follower_id = z.v AND f.followee_id = u.id) AS follows
    FROM (SELECT %(v)s::bigint AS v) z
    JOIN accounts_user u ON u.id = %(o)s::bigint AND u.is_active
    LEFT JOIN accounts_profile pr ON pr.user_id = u.id
    WHERE NOT EXISTS (SELECT 1 FROM social_block bl
                      WHERE (bl.blocker_id = z.v AND bl.blocked_id = u.id)
                         OR (bl.blocker_id = u.id AND bl.blocked_id = z.v))
)
SELECT p.pinned, p.id, (extract(epoch FROM p.created_at) * 1000000)::bigint, {item}::text
FROM t
CROSS JOIN LATERAL (
    (SELECT false AS pinned, p.* FROM social_post p
     WHERE p.reply_to_id IS NULL AND p.created_at <= %(at)s::timestamptz
       AND (p.created_at < %(at)s::timestamptz OR p.id < %(id)s::bigint) AND {visible}
     ORDER BY p.created_at DESC, p.id DESC LIMIT %(n)s::int)
    UNION ALL
    (SELECT true, p.* FROM social_post p WHERE p.is_pinned AND {visible})
) p
JOIN accounts_user u ON u.id = p.author_id
LEFT JOIN accounts_profile pr ON pr.user_id = p.author_id
WHERE t.o = t.v OR NOT t.private OR t.follows
ORDER BY p.pinned DESC, p.created_at DESC, p.id DESC
"""
# A feed item of a list that is not the home timeline (``presenters.feed_items_present``).
_PROFILE_ITEM_SQL: dict[str, str] = {
    **ITEM_SQL,
    "id": "p.id",
    "created_at": iso_sql("p.created_at"),
    "reposted_by": "NULL",
    "post": json_object_sql(POST_SQL),
}
# Whitespace collapsed: psycopg caches its parse of statements up to 4 KB only.
PROFILE_SQL = " ".join(_PROFILE_SQL.format(item=json_object_sql(_PROFILE_ITEM_SQL), visible=_VISIBLE).split())


def profile_posts_page(
    *, viewer: Viewer, owner: User, cursor: KeysetCursor | None = None, size: int = 20
) -> ProfilePage:
    """One page of ``owner``'s top-level posts that ``viewer`` may see, newest first, and their
    pinned post: ``selectors.post_list_for_profile`` and ``post_get_pinned`` in one statement
    (none of a private account's posts for anyone but its followers and itself). Pages go
    older only; a cursor pointing newer is refused as tampered (NotFoundError)."""
    if cursor is not None and cursor.newer:
        raise NotFoundError("Invalid cursor.")
    at = cursor or KeysetCursor.start()
    if connection.vendor == "postgresql":
        rows = _profile_rows_postgres(
            viewer_id=viewer_id_of(viewer), owner_id=owner.pk, cursor=at, limit=size + 1
        )
    else:
        rows = _profile_rows_orm(viewer=viewer, owner=owner, cursor=at, limit=size + 1)
    pinned = next((item for is_pinned, _, _, item in rows if is_pinned), None)
    posts = [row for row in rows if not row[0]]
    more, posts = len(posts) > size, posts[:size]
    _, last_id, last_at, _ = posts[-1] if posts else (False, 0, 0, "")
    return ProfilePage(
        items_json=[item for _, _, _, item in posts],
        pinned_json=pinned,
        next=KeysetCursor(created_at_us=last_at, id=last_id) if more else None,
    )


def _profile_rows_postgres(
    *, viewer_id: int | None, owner_id: int, cursor: KeysetCursor, limit: int
) -> list[_ProfileRow]:
    params = {
        "v": viewer_id,
        "o": owner_id,
        "at": cursor.created_at,
        "id": cursor.id,
        "n": limit,
        "m": presenters.media_sql_prefix(),
        "da": presenters.default_avatar_url(),
    }
    with prepared_cursor() as db:
        db.execute(PROFILE_SQL, params)
        rows: list[_ProfileRow] = db.fetchall()
    if not media_is_remote():
        return rows
    # In a bucket, media URLs are signed here, in Python: PostgreSQL wrote the bare file names.
    return [(pin, id_, at, presenters.timeline_item_json_sign_media(item)) for pin, id_, at, item in rows]


def _profile_rows_orm(*, viewer: Viewer, owner: User, cursor: KeysetCursor, limit: int) -> list[_ProfileRow]:
    """What ``_profile_rows_postgres`` returns, through the ORM selectors (SQLite, and the
    tests' reference): the pinned row first, then the page."""
    at = cursor.created_at
    page = (
        post_list_for_profile(viewer=viewer, owner=owner)
        .filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=cursor.id))
        .order_by("-created_at", "-id")[:limit]
    )
    pinned = post_get_pinned(viewer=viewer, owner=owner)
    rows: list[_ProfileRow] = []
    for is_pinned, post in [
        *([(True, pinned)] if pinned else []),
        *((False, p) for p in post_list_from_rows(page)),
    ]:
        (item,) = presenters.feed_items_present([post])
        position = KeysetCursor.at(post["created_at"], post["id"])
        rows.append((is_pinned, post["id"], position.created_at_us, json.dumps(item, cls=JSONEncoder)))
    return rows
