"""Reads that help people find each other: whom to follow, trending hashtags, and a profile's
counts. Each is one query, whatever the number of rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from social.models import Follow, FollowRequest, Post, PostHashtag
from social.selectors.visibility import Viewer, blocked_either_way_q, muted_exists, viewer_id_of

# Suggestions come from the authors of this many newest public posts: active people, found
# through the newest-posts index, so the cost does not grow with the number of accounts.
SUGGESTION_POOL_POSTS = 500
TRENDING_WINDOW = timedelta(days=7)


def _count(qs: QuerySet[Any], group: str) -> Coalesce:
    """A correlated ``COUNT(*)`` of ``qs`` grouped by ``group`` (0 when it has no rows)."""
    counted = qs.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _public_live_posts() -> QuerySet[Post]:
    return Post.objects.filter(
        deleted_at__isnull=True,
        hidden_at__isnull=True,
        visibility=Post.Visibility.PUBLIC,
        author__is_active=True,
        author__profile__is_private=False,
    )


def user_list_suggested(*, viewer: Viewer, limit: int = 5) -> list[dict[str, Any]]:
    """People who posted publicly of late, most followed first, whom ``viewer`` does not
    follow (or ask to follow), block, mute or get blocked by. Rows for
    ``presenters.user_search_rows_present`` plus ``followers``."""
    recent_authors = (
        _public_live_posts().filter(reply_to__isnull=True).order_by("-created_at").values("author_id")
    )[:SUGGESTION_POOL_POSTS]
    qs = User.objects.filter(is_active=True, id__in=recent_authors)
    viewer_id = viewer_id_of(viewer)
    if viewer_id is not None:
        qs = (
            qs.exclude(pk=viewer_id)
            .exclude(Exists(Follow.objects.filter(follower_id=viewer_id, followee_id=OuterRef("pk"))))
            .exclude(Exists(FollowRequest.objects.filter(requester_id=viewer_id, target_id=OuterRef("pk"))))
            .exclude(blocked_either_way_q(viewer_id, "id"))
            .exclude(muted_exists(viewer_id, "id"))
        )
    followers = _count(
        Follow.objects.filter(followee_id=OuterRef("pk"), follower__is_active=True), "followee"
    )
    rows = (
        qs.annotate(followers=followers)
        .values(
            "id",
            "handle",
            "followers",
            display_name=F("profile__display_name"),
            avatar=F("profile__avatar_small"),
        )
        .order_by("-followers", "handle")[:limit]
    )
    return list(rows)


def hashtag_list_trending(*, limit: int = 10) -> list[dict[str, Any]]:
    """The hashtags of the most public posts in the last week: ``{name, uses}``, most used first."""
    since = timezone.now() - TRENDING_WINDOW
    recent = _public_live_posts().filter(created_at__gte=since).values("id")
    rows = (
        PostHashtag.objects.filter(post_id__in=recent)
        .values(name=F("hashtag__name"))
        .annotate(uses=Count("post_id"))
        .order_by("-uses", "name")[:limit]
    )
    return list(rows)


def profile_counts_sql(owner: str) -> str:
    """The three counts of ``profile_counts_get`` as SQL select expressions, for the user id
    that the SQL expression ``owner`` gives (also in ``feeds.profile``'s header statement).

    Deactivated people are left out with ``NOT IN`` over the partial index of inactive ids
    (``accounts_user_inactive_ids``): PostgreSQL hashes that small set once and counts the
    follow index alone. The join to ``accounts_user`` it replaces read every user's row (2.5 ms
    per count at 10,000 users, most of a profile page's database time)."""
    follow, user, post = Follow._meta.db_table, User._meta.db_table, Post._meta.db_table
    # Table names from the models; ``owner`` is the caller's SQL, never a client's text.
    inactive = f'SELECT u.id FROM "{user}" u WHERE NOT u.is_active'  # noqa: S608
    return (
        f'(SELECT count(*) FROM "{follow}" f WHERE f.followee_id = {owner} AND f.follower_id NOT IN ({inactive})),'  # noqa: S608
        f' (SELECT count(*) FROM "{follow}" f WHERE f.follower_id = {owner} AND f.followee_id NOT IN ({inactive})),'
        f' (SELECT count(*) FROM "{post}" p'
        f" WHERE p.author_id = {owner} AND p.deleted_at IS NULL AND p.hidden_at IS NULL)"
    )


_PROFILE_COUNTS_SQL = f"SELECT {profile_counts_sql('%(owner)s')}"  # noqa: S608 - no client text


def profile_counts_get(*, owner: User) -> dict[str, int]:
    """``{followers, following, posts}`` of ``owner``, in one query: active followers and
    followed people, and the posts (replies included) that are neither deleted nor hidden.

    Written as SQL: the ORM took longer to build this query (three correlated subqueries)
    than PostgreSQL takes to run it, on every profile page."""
    with connection.cursor() as cursor:
        cursor.execute(_PROFILE_COUNTS_SQL, {"owner": owner.pk})
        followers, following, posts = cursor.fetchone()
    return {"followers": followers, "following": following, "posts": posts}
