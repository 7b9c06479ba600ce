"""Writes to the home timelines (fan-out on write): each new post or repost goes into its
audience's ``TimelineEntry`` rows, follows backfill them, unfollows and blocks forget them.

These are the services the Celery tasks of ``social.tasks`` run (each task has the name of the
service it runs); they import nothing of ``social.services``, which queues them, so there is
no import cycle. All are idempotent (unique per owner and post), so a task may retry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from accounts.models import User
from social.models import Follow, Post, Repost, TimelineEntry
from social.selectors.visibility import visible_posts_q


def timeline_entry_add_own(*, post: Post) -> None:
    """Writes a new top-level post into its author's own feed (inline: they see it at once)."""
    TimelineEntry.objects.create(owner=post.author, post=post, actor=post.author, created_at=post.created_at)


def timeline_forget(*, owner_id: int, actor_id: int) -> None:
    """Drops ``actor``'s posts and reposts (and reposts of their posts) from ``owner``'s feed."""
    TimelineEntry.objects.filter(
        Q(actor_id=actor_id) | Q(post__author_id=actor_id), owner_id=owner_id
    ).delete()


def timeline_fan_out_post(*, post_id: int, batch_size: int = 2000) -> int:
    """Writes a new top-level post into its author's followers' home feeds; returns the count.

    Followers-only and public posts go to every follower; a mentioned-only post only to the
    mentioned followers.
    """
    post = Post.objects.filter(pk=post_id, reply_to__isnull=True, deleted_at__isnull=True).first()
    if post is None:
        return 0
    followers = Follow.objects.filter(followee_id=post.author_id)
    if post.visibility == Post.Visibility.MENTIONED:
        followers = followers.filter(follower__mentions__post=post)
    written = 0
    batch: list[TimelineEntry] = []
    for follower_id in followers.values_list("follower_id", flat=True).iterator(chunk_size=batch_size):
        batch.append(
            TimelineEntry(
                owner_id=follower_id, post=post, actor_id=post.author_id, created_at=post.created_at
            )
        )
        if len(batch) >= batch_size:
            TimelineEntry.objects.bulk_create(batch, ignore_conflicts=True)
            written += len(batch)
            batch = []
    if batch:
        TimelineEntry.objects.bulk_create(batch, ignore_conflicts=True)
        written += len(batch)
    return written


def timeline_fan_out_repost(*, repost_id: int, batch_size: int = 2000) -> int:
    """Writes a repost into the reposter's and their followers' feeds (not into the author's,
    nor across a block with the author)."""
    repost = Repost.objects.select_related("post").filter(pk=repost_id).first()
    if repost is None:
        return 0
    author_id = repost.post.author_id
    followers = (
        Follow.objects.filter(followee_id=repost.user_id)
        .exclude(follower_id=author_id)
        .exclude(
            Q(follower__blocks_made__blocked_id=author_id)
            | Q(follower__blocks_received__blocker_id=author_id)
        )
        .values_list("follower_id", flat=True)
    )
    entries = [
        TimelineEntry(
            owner_id=owner_id,
            post_id=repost.post_id,
            reposter_id=repost.user_id,
            actor_id=repost.user_id,
            created_at=repost.created_at,
        )
        for owner_id in [*followers, repost.user_id]
    ]
    TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=batch_size)
    return len(entries)


def timeline_backfill(*, owner_id: int, followee_id: int, limit: int | None = None) -> int:
    """Copies the followee's recent posts the owner may see into the owner's home feed."""
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        return 0
    limit = limit or settings.SOCIAL_TIMELINE_BACKFILL
    posts = (
        Post.objects.filter(visible_posts_q(owner), author_id=followee_id, reply_to__isnull=True)
        .order_by("-created_at")
        .values_list("id", "created_at")[:limit]
    )
    entries = [
        TimelineEntry(owner_id=owner_id, post_id=pid, actor_id=followee_id, created_at=created_at)
        for pid, created_at in posts
    ]
    TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return len(entries)


@transaction.atomic
def timeline_trim(*, keep: int | None = None) -> int:
    """Deletes home-feed entries beyond the newest ``keep`` per user; returns how many went.

    Feeds are read from the top; older pages are rarely opened, and ``timeline_rebuild``
    recreates a feed from the follow graph when needed.
    """
    keep = keep or settings.SOCIAL_TIMELINE_KEEP
    ranked = TimelineEntry.objects.annotate(
        rank=Window(
            RowNumber(), partition_by=[F("owner_id")], order_by=[F("created_at").desc(), F("id").desc()]
        )
    ).filter(rank__gt=keep)
    deleted, _ = TimelineEntry.objects.filter(
        pk__in=[row["pk"] for row in ranked.values("pk")[:50_000]]
    ).delete()
    return deleted


@transaction.atomic
def timeline_rebuild(*, user: User) -> int:
    """Rebuilds a home feed from scratch (after a restore, or for a long-inactive user)."""
    TimelineEntry.objects.filter(owner=user).delete()
    total = timeline_backfill(owner_id=user.pk, followee_id=user.pk)
    for followee_id in Follow.objects.filter(follower=user).values_list("followee_id", flat=True):
        total += timeline_backfill(owner_id=user.pk, followee_id=followee_id)
    return total
