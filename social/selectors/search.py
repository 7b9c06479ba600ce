"""Search: posts (full text), people (handle or name) and hashtags (prefix), as the viewer may see them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import User
from social.models import Hashtag, PostHashtag
from social.selectors.posts import post_queryset_for_feeds, post_values
from social.selectors.visibility import Viewer, blocked_either_way_q, viewer_id_of


def user_list_search(*, viewer: Viewer, query: str) -> QuerySet[Any]:
    query = query.strip().lstrip("@")
    qs = User.objects.filter(is_active=True).filter(
        Q(handle__icontains=query) | Q(profile__display_name__icontains=query)
    )
    viewer_id = viewer_id_of(viewer)
    if viewer_id is not None:
        qs = qs.exclude(blocked_either_way_q(viewer_id, "id"))
    return qs.values(
        "id", "handle", display_name=F("profile__display_name"), avatar=F("profile__avatar_small")
    ).order_by("handle")


def post_list_search(*, viewer: Viewer, query: str) -> QuerySet[Any]:
    """Posts matching ``query`` (PostgreSQL full-text search; ``icontains`` on SQLite)."""
    qs = post_queryset_for_feeds(viewer)
    if settings.IS_POSTGRES:
        qs = qs.annotate(search=SearchVector("text", config="english")).filter(
            search=SearchQuery(query, config="english", search_type="websearch")
        )
    else:
        qs = qs.filter(text__icontains=query)
    return post_values(qs, viewer)


def hashtag_list_search(*, viewer: Viewer, query: str) -> QuerySet[Any]:
    """Hashtags starting with ``query`` that appear in at least one post the viewer may see
    (a tag used only in followers-only, mentioned-only, private, hidden or deleted posts is
    not revealed)."""
    query = query.strip().lstrip("#").lower()
    seen = PostHashtag.objects.filter(
        hashtag_id=OuterRef("id"), post__in=post_queryset_for_feeds(viewer).values("id")
    )
    return (
        Hashtag.objects.filter(name__startswith=query)
        .filter(Exists(seen))
        .values("id", "name")
        .order_by("name")
    )
