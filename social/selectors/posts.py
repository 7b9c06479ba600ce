"""Posts as the viewer may see them: single posts, threads and the lists that are not the home
timeline (explore, profile, hashtag, bookmarks, replies).

Lists return ``values()`` querysets (``p_*`` aliases plus the viewer's flags) for the cursor
paginator; ``post_list_from_rows`` turns a page of them into ``presenters.post_present``
dicts with one more query for the images of the whole page (see social/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import User
from config.errors import NotFoundError
from social import presenters
from social.models import Bookmark, Hashtag, Like, Post, PostEdit, PostImage, Repost
from social.selectors.visibility import (
    POST_NOT_FOUND,
    Viewer,
    muted_exists,
    post_get_for_user,
    profile_posts_visible,
    viewer_id_of,
    visible_posts_q,
)

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
    "p_author_private": "author__profile__is_private",
}


def post_values(qs: QuerySet[Any], viewer: Viewer, prefix: str = "") -> QuerySet[Any]:
    """``values()`` of the post fields (aliased ``p_*``) plus the viewer's like/repost/bookmark flags."""
    viewer_id = viewer_id_of(viewer)
    post_ref = f"{prefix}id"
    flags: list[str] = []
    if viewer_id is not None:
        qs = qs.annotate(
            p_liked=Exists(Like.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
            p_reposted=Exists(Repost.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
            p_bookmarked=Exists(Bookmark.objects.filter(user_id=viewer_id, post_id=OuterRef(post_ref))),
        )
        flags = ["p_liked", "p_reposted", "p_bookmarked"]
    return qs.values(*flags, "created_at", **{alias: F(prefix + path) for alias, path in _POST_PATHS.items()})


def post_list_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A page of ``post_values`` rows as post dicts; one query for every post's images."""
    rows = list(rows)
    ids = [row["p_id"] for row in rows]
    images: dict[int, list[Mapping[str, Any]]] = {}
    if ids:
        for image in PostImage.objects.filter(post_id__in=ids).values(
            "post_id", "image", "width", "height", "alt_text"
        ):
            images.setdefault(image["post_id"], []).append(image)
    return [
        presenters.post_present(row, images=_images_present(row, images.get(row["p_id"], []))) for row in rows
    ]


def _images_present(row: Mapping[str, Any], images: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    public = presenters.post_media_public(
        visibility=row["p_visibility"], author_private=row["p_author_private"]
    )
    return [presenters.image_present(image, public=public) for image in images]


def post_queryset_for_feeds(viewer: Viewer) -> QuerySet[Post]:
    """Visible posts without those of people the viewer mutes (their own stay)."""
    qs = Post.objects.filter(visible_posts_q(viewer))
    viewer_id = viewer_id_of(viewer)
    if viewer_id is not None:
        qs = qs.exclude(Q(muted_exists(viewer_id, "author_id")) & ~Q(author_id=viewer_id))
    return qs


def post_list_explore(*, viewer: Viewer) -> QuerySet[Any]:
    """Public top-level posts of public accounts, newest first."""
    qs = post_queryset_for_feeds(viewer).filter(
        reply_to__isnull=True, visibility=Post.Visibility.PUBLIC, author__profile__is_private=False
    )
    return post_values(qs, viewer)


def post_list_for_profile(*, viewer: Viewer, owner: User) -> QuerySet[Any]:
    """``owner``'s top-level posts that ``viewer`` may see (none of a private account's for strangers)."""
    if not profile_posts_visible(viewer=viewer, owner=owner):
        return Post.objects.none().values()
    qs = Post.objects.filter(visible_posts_q(viewer), author=owner, reply_to__isnull=True)
    return post_values(qs, viewer)


def post_get_pinned(*, viewer: Viewer, owner: User) -> dict[str, Any] | None:
    if not profile_posts_visible(viewer=viewer, owner=owner):
        return None
    # Most people pin nothing: a plain lookup first spares the ORM building the full query.
    if not Post.objects.filter(author=owner, is_pinned=True).exists():
        return None
    qs = Post.objects.filter(visible_posts_q(viewer), author=owner, is_pinned=True)
    rows = post_list_from_rows(post_values(qs, viewer)[:1])
    return rows[0] if rows else None


_TAG = re.compile(r"\w{1,100}")


def post_list_for_tag(*, viewer: Viewer, tag: str) -> QuerySet[Any]:
    """Posts with ``#tag``; NotFoundError for a name no hashtag can have (a NUL byte, a dot...)."""
    if not _TAG.fullmatch(tag):
        raise NotFoundError("No such hashtag.")
    qs = post_queryset_for_feeds(viewer).filter(
        Exists(Hashtag.posts.through.objects.filter(post_id=OuterRef("id"), hashtag__name=tag.lower()))
    )
    return post_values(qs, viewer)


def post_list_bookmarked(*, user: User) -> QuerySet[Any]:
    qs = Bookmark.objects.filter(visible_posts_q(user, "post__"), user=user)
    return post_values(qs, user, "post__")


def post_get_shown(*, viewer: Viewer, post_id: int) -> dict[str, Any]:
    """One post as a dict, if ``viewer`` may see it; NotFoundError otherwise."""
    rows = post_list_from_rows(post_values(Post.objects.filter(visible_posts_q(viewer), pk=post_id), viewer))
    if not rows:
        raise NotFoundError(POST_NOT_FOUND)
    return rows[0]


def post_list_replies(*, viewer: Viewer, post: Post) -> QuerySet[Any]:
    """Direct replies to ``post`` that ``viewer`` may see (callers check ``post`` itself first)."""
    return post_values(post_queryset_for_feeds(viewer).filter(reply_to=post), viewer)


def post_list_thread(*, viewer: Viewer, post: Post, limit: int = 200) -> list[dict[str, Any]]:
    """The visible posts of ``post``'s thread below it, depth-first, each with ``depth``.

    A reply whose parent the viewer cannot see is left out with its subtree.
    """
    root_id = post.root_id or post.pk
    qs = post_queryset_for_feeds(viewer).filter(root_id=root_id).order_by("created_at", "id")
    rows = post_list_from_rows(post_values(qs, viewer)[:limit])
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


def post_list_ancestors(*, viewer: Viewer, post: Post) -> list[dict[str, Any]]:
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
        for row in post_list_from_rows(
            post_values(post_queryset_for_feeds(viewer).filter(pk__in=ids), viewer)
        )
    }
    return [rows[i] for i in reversed(ids) if i in rows]


def post_edit_list(*, viewer: Viewer, post_id: int) -> QuerySet[Any]:
    """Earlier versions of a post the viewer may see, newest first, as ``values()`` rows."""
    post = post_get_for_user(user=viewer, post_id=post_id)
    return PostEdit.objects.filter(post=post).values("id", "text", "content_warning", "created_at")


def post_image_get_for_viewer(*, viewer: Viewer, name: str) -> dict[str, Any] | None:
    """The stored image called exactly ``name`` if ``viewer`` may see its post now (live, not
    hidden, author active, the visibility rule), with its post's ``public`` flag
    (``presenters.post_media_public``); None otherwise, never telling which. One query."""
    row = (
        PostImage.objects.filter(visible_posts_q(viewer, prefix="post__"), image=name)
        .values(
            "image", visibility=F("post__visibility"), author_private=F("post__author__profile__is_private")
        )
        .first()
    )
    if row is None:
        return None
    public = presenters.post_media_public(visibility=row["visibility"], author_private=row["author_private"])
    return {"name": row["image"], "public": public}
