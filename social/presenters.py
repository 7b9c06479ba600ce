"""Every output shape of the social app, built in one place: a post, a timeline item, a user
row, a notification, a hashtag.

Pages, the API and the home feed's SQL path all use these functions (the SQL path writes the
same keys in PostgreSQL: ``social.feeds.home`` builds its JSON from ``POST_SQL``'s keys, and
``tests/test_presenters.py`` compares them, and each API output serializer's fields, with what
these functions return).

Selectors hand over ``values()`` rows with the aliases named below; presenters never query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.templatetags.static import static

from config.storage import media_is_remote, media_url

Row = Mapping[str, Any]
Shape = dict[str, Any]

# How long a notification's excerpt of its post may be.
EXCERPT_LENGTH = 140

# What the reporter is told when their report closes, by the moderation action that closed it
# (``ModerationAction.Kind``): the outcome e-mail and the REPORT_REVIEWED notification.
REPORT_OUTCOMES: dict[str, str] = {
    "hide": "we removed the content you reported.",
    "warn": "we warned the account you reported.",
    "suspend": "we suspended the account you reported.",
    "resolve": "we took action on it.",
    "dismiss": "we found that it does not break the community rules.",
}


@lru_cache(maxsize=1)
def default_avatar_url() -> str:
    return static("img/avatar-default.svg")


def avatar_url(path: str | None) -> str:
    """The small avatar's URL (avatars are public: anyone may see a profile's picture), or the
    default picture."""
    return media_url(path, public=True) if path else default_avatar_url()


def post_media_public(*, visibility: str, author_private: bool | None) -> bool:
    """Whether a post's images may have a public, long-lived URL: a public post of a public
    account. Anything narrower gets short-lived signed URLs, for viewers the selectors have
    already let see the post (and on the local disk a view that checks again)."""
    return visibility == "public" and not author_private


# --- People --------------------------------------------------------------------------------------


def user_present(*, handle: str, display_name: str | None, avatar: str | None) -> Shape:
    """A person as lists show them: ``{handle, display_name, avatar_url}``."""
    return {"handle": handle, "display_name": display_name or handle, "avatar_url": avatar_url(avatar)}


def author_present(*, id: int, handle: str, display_name: str | None, avatar: str | None) -> Shape:
    """A post's author: a person plus their ``id``."""
    return {"id": id, **user_present(handle=handle, display_name=display_name, avatar=avatar)}


def reposter_present(*, handle: str, display_name: str | None) -> Shape:
    return {"handle": handle, "display_name": display_name or handle}


def user_row_present(row: Row) -> Shape:
    """A row of a relationship list (followers, following, requests, blocks, mutes).

    ``row`` has ``handle``, ``display_name``, ``avatar``, ``created_at`` (since when) and,
    for mutes, ``expires_at``.
    """
    out = user_present(handle=row["handle"], display_name=row["display_name"], avatar=row["avatar"])
    out["since"] = row["created_at"]
    if "expires_at" in row:
        out["expires_at"] = row["expires_at"]
    return out


def user_rows_present(rows: Iterable[Row]) -> list[Shape]:
    return [user_row_present(row) for row in rows]


def user_search_rows_present(rows: Iterable[Row]) -> list[Shape]:
    """Rows of the people search (``handle``, ``display_name``, ``avatar``)."""
    return [
        user_present(handle=row["handle"], display_name=row["display_name"], avatar=row["avatar"])
        for row in rows
    ]


# --- Posts --------------------------------------------------------------------------------------


def image_present(row: Row, *, public: bool) -> Shape:
    """A post image; ``public`` from ``post_media_public`` for its post."""
    return {
        "url": media_url(row["image"], public=public),
        "width": row["width"],
        "height": row["height"],
        "alt_text": row["alt_text"],
    }


def media_sql_prefix() -> str:
    """What the home feed's SQL writes before a stored file name: ``MEDIA_URL`` on the local
    disk (the URL ``media_url`` gives there); nothing in a bucket, where
    ``timeline_item_json_sign_media`` then turns each bare name into its URL."""
    return "" if media_is_remote() else str(settings.MEDIA_URL)


def timeline_item_json_sign_media(item_json: str) -> str:
    """A home-feed item PostgreSQL wrote with bare file names (see ``media_sql_prefix``), with
    the avatar's and each image's URL made by ``media_url`` as ``post_present`` makes them
    (``repostable`` is ``post_media_public`` of the post). No query."""
    item = json.loads(item_json)
    post = item["post"]
    author = post["author"]
    if author["avatar_url"] != default_avatar_url():
        author["avatar_url"] = avatar_url(author["avatar_url"])
    for image in post["images"]:
        image["url"] = media_url(image["url"], public=bool(post["repostable"]))
    return json.dumps(item)


def post_present(row: Row, *, images: list[Shape]) -> Shape:
    """A post (or reply) with the viewer's flags.

    ``row`` is a ``values()`` row with the ``p_*`` aliases of ``social.selectors.posts``;
    the flags are false for an anonymous viewer (the row then has no ``p_liked``...).
    """
    return {
        "id": row["p_id"],
        "author": author_present(
            id=row["p_author_id"],
            handle=row["p_author_handle"],
            display_name=row["p_author_name"],
            avatar=row["p_author_avatar"],
        ),
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
        # The repost rule of services.repost_create, so pages offer the button only where it works;
        # the same rule as post_media_public (timeline_items_json_sign_media relies on that).
        "repostable": post_media_public(
            visibility=row["p_visibility"], author_private=row["p_author_private"]
        ),
        "images": images,
    }


def timeline_item_present(*, id: int, created_at: datetime, reposted_by: Shape | None, post: Shape) -> Shape:
    """One line of a feed: a post, and who reposted it when it came in as a repost."""
    return {"id": id, "created_at": created_at, "reposted_by": reposted_by, "post": post}


def feed_items_present(posts: Iterable[Shape]) -> list[Shape]:
    """Posts of a list that is not the home timeline, as feed items (the pages render items)."""
    return [
        timeline_item_present(id=post["id"], created_at=post["created_at"], reposted_by=None, post=post)
        for post in posts
    ]


def post_edit_rows_present(rows: Iterable[Row]) -> list[Shape]:
    return [
        {
            "id": row["id"],
            "text": row["text"],
            "content_warning": row["content_warning"],
            "created_at": row["created_at"],
        }
        for row in rows
    ]


# --- Notifications -----------------------------------------------------------------------------


def notification_excerpt(row: Row) -> str | None:
    """What a notification quotes of its post, under the post's own rules.

    Nothing when there is no post or the recipient may not see it now (hidden, deleted,
    no longer mentioned, followers-only...): ``post_visible`` comes from the same visibility
    rule as every other read. A content-warned post shows its warning, never its text.
    """
    if not row["post_id"] or not row["post_visible"]:
        return None
    if row["post_content_warning"]:
        return f"CW: {row['post_content_warning']}"[:EXCERPT_LENGTH]
    return (row["post_text"] or "")[:EXCERPT_LENGTH]


def report_about(*, target_handle: str, about_post: bool) -> str:
    """What a report was about, as its reporter is told."""
    return f"a post by @{target_handle}" if about_post else f"@{target_handle}"


def notification_report_present(row: Row) -> Shape | None:
    """A REPORT_REVIEWED notification's report: whom it was about and what came of it (never
    which moderator decided, nor their note); ``None`` for every other kind."""
    outcome = row["report_outcome"]
    if outcome is None:
        return None
    handle = row["report_target_handle"] or ""
    about_post = row["report_post_id"] is not None
    about = report_about(target_handle=handle, about_post=about_post)
    return {
        "target_handle": handle,
        "about_post": about_post,
        "outcome": outcome,
        "message": f"A moderator reviewed your report about {about}: {REPORT_OUTCOMES.get(outcome, '')}",
    }


def notification_present(row: Row) -> Shape:
    """A notification; ``row`` comes from ``selectors.notifications.notification_list``.
    ``actor`` is ``None`` for what the site itself tells (a report's outcome)."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": row["created_at"],
        "read": row["read_at"] is not None,
        "actor": None
        if row["actor_handle"] is None
        else user_present(
            handle=row["actor_handle"], display_name=row["actor_name"], avatar=row["actor_avatar"]
        ),
        "post_id": row["post_id"],
        "post_excerpt": notification_excerpt(row),
        "report": notification_report_present(row),
    }


def notification_rows_present(rows: Iterable[Row]) -> list[Shape]:
    return [notification_present(row) for row in rows]


def notification_group_rows_present(rows: Iterable[Row]) -> list[Shape]:
    return [
        {"kind": row["kind"], "post_id": row["post_id"], "count": row["count"], "latest": row["latest"]}
        for row in rows
    ]


# --- Hashtags ------------------------------------------------------------------------------------


def hashtag_rows_present(rows: Iterable[Row]) -> list[Shape]:
    return [{"name": row["name"], "url": f"/tags/{row['name']}/"} for row in rows]
