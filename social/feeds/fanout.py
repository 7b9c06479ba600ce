"""Writes to the home timelines (fan-out on write): each new post or repost goes into its
audience's ``TimelineEntry`` rows, follows backfill them, unfollows and blocks forget them.

These are the services the Celery tasks of ``social.tasks`` run (each task has the name of the
service it runs); they import nothing of ``social.services``, which queues them, so there is
no import cycle. All are idempotent (unique per owner and post), so a task may retry.

Very-followed authors (more than ``FEED_FANOUT_MAX_FOLLOWERS`` followers) are not pushed: their
posts and reposts are pulled, merged into each follower's feed at read time from the author's
own entries marked ``pulled`` (never trimmed, never forgotten by the author's unfollows: they
are their followers' copy). Every other author's posts and reposts go to up to
``FEED_FANOUT_CHUNK_SIZE`` followers at once and to the rest in chunk tasks on the ``fanout``
queue (config/celery.py), so a big fan-out never holds up other people's tasks for longer than
one chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber

from accounts.models import User
from social.models import Follow, Post, PulledAuthor, Repost, TimelineEntry
from social.selectors.visibility import visible_posts_q


def timeline_entry_add_own(*, post: Post) -> None:
    """Writes a new top-level post into its author's own feed (inline: they see it at once)."""
    TimelineEntry.objects.create(owner=post.author, post=post, actor=post.author, created_at=post.created_at)


def timeline_forget(*, owner_id: int, actor_id: int) -> None:
    """Drops ``actor``'s posts and reposts (and reposts of their posts) from ``owner``'s feed.

    Keeps the owner's pulled entries: those are what the owner's followers read (a pulled
    author who unfollows or blocks someone keeps their reposts of that person's posts in their
    followers' feeds, as pushed copies would stay)."""
    TimelineEntry.objects.filter(
        Q(actor_id=actor_id) | Q(post__author_id=actor_id), owner_id=owner_id, pulled=False
    ).delete()


def _very_followed(author_id: int) -> bool:
    threshold = settings.FEED_FANOUT_MAX_FOLLOWERS
    return _follower_count_capped(followee_id=author_id, cap=threshold + 1) > threshold


@dataclass(frozen=True)
class FanOut:
    """What a fan-out did at once, and the follower-id ranges ``(after, upto]`` left for chunk
    tasks (``upto`` None: to the end). ``pulled``: not pushed at all, merged at read time."""

    written: int = 0
    chunks: tuple[tuple[int, int | None], ...] = ()
    pulled: bool = False


def _follower_count_capped(*, followee_id: int, cap: int) -> int:
    """How many people follow ``followee_id``, counting no further than ``cap`` (a bounded scan)."""
    return Follow.objects.filter(followee_id=followee_id)[:cap].count()


def _chunk_ranges(*, followee_id: int, size: int) -> tuple[tuple[int, int | None], ...]:
    """The follower ids of ``followee_id`` cut into ranges of ``size`` (one index-only scan of
    ``social_follow_followee_id``, returning only every ``size``-th id)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT follower_id FROM (SELECT follower_id, row_number() OVER (ORDER BY follower_id) AS n"
            " FROM social_follow WHERE followee_id = %s) s WHERE n %% %s = 0 ORDER BY follower_id",
            [followee_id, size],
        )
        bounds = [row[0] for row in cursor.fetchall()]
    starts = [0, *bounds]
    return tuple(zip(starts, [*bounds, None], strict=True))


# One chunk: the followers in one range, in one statement (no model objects: at 100,000
# followers building them would cost more than the insert). Replaying it writes nothing twice.
_PUSH_SQL = """
INSERT INTO social_timelineentry (owner_id, post_id, reposter_id, actor_id, created_at, pulled)
SELECT f.follower_id, %(post)s, %(reposter)s, %(actor)s, %(at)s, false
FROM social_follow f
WHERE f.followee_id = %(actor)s AND f.follower_id > %(after)s AND f.follower_id <= %(upto)s
{repost}
ON CONFLICT DO NOTHING
"""
# A repost reaches neither the post's author nor anyone on either side of a block with them.
_PUSH_REPOST_FILTER = """
  AND f.follower_id <> %(author)s
  AND NOT EXISTS (SELECT 1 FROM social_block b
                  WHERE (b.blocker_id = f.follower_id AND b.blocked_id = %(author)s)
                     OR (b.blocker_id = %(author)s AND b.blocked_id = f.follower_id))
"""
_PUSH_POST, _PUSH_REPOST = (
    " ".join(_PUSH_SQL.format(repost=repost).split()) for repost in ("", _PUSH_REPOST_FILTER)
)
_MAX_ID = 2**63 - 1


def _push(
    *, post: Post, actor_id: int, created_at: datetime, after: int, upto: int | None, repost: bool
) -> int:
    params = {
        "post": post.pk,
        "reposter": actor_id if repost else None,
        "actor": actor_id,
        "at": created_at,
        "after": after,
        "upto": _MAX_ID if upto is None else upto,
        "author": post.author_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PUSH_REPOST if repost else _PUSH_POST, params)
        return max(cursor.rowcount, 0)


def _plan(*, followee_id: int, push_all: Callable[[], int]) -> FanOut:
    """Pushes at once to a few followers, or cuts many into chunks for the fan-out queue."""
    size = settings.FEED_FANOUT_CHUNK_SIZE
    if _follower_count_capped(followee_id=followee_id, cap=size + 1) <= size:
        return FanOut(written=push_all())
    return FanOut(chunks=_chunk_ranges(followee_id=followee_id, size=size))


def _live_post(post_id: int) -> Post | None:
    return Post.objects.filter(pk=post_id, reply_to__isnull=True, deleted_at__isnull=True).first()


@transaction.atomic
def timeline_pull(*, post: Post) -> None:
    """Leaves ``post`` out of its followers' feeds: it is marked on its author's own entry, and
    home feeds merge it in at read time (``feeds.home``)."""
    PulledAuthor.objects.get_or_create(author_id=post.author_id)
    updated = TimelineEntry.objects.filter(owner_id=post.author_id, post=post, reposter__isnull=True).update(
        pulled=True
    )
    if not updated:
        TimelineEntry.objects.create(
            owner_id=post.author_id,
            post=post,
            actor_id=post.author_id,
            created_at=post.created_at,
            pulled=True,
        )


def timeline_fan_out_post(*, post_id: int) -> FanOut:
    """Sends a new top-level post to its author's followers' home feeds, in three steps:

    1. an author followed by more than ``FEED_FANOUT_MAX_FOLLOWERS`` is not pushed: the post is
       pulled (``timeline_pull``), and each follower's feed merges it in when read;
    2. a mentioned-only post goes to the mentioned followers only, at once (a few rows);
    3. otherwise up to ``FEED_FANOUT_CHUNK_SIZE`` followers get it at once, and beyond that the
       follower ids are cut into ranges that ``timeline_push_post_chunk`` tasks write on the
       fan-out queue (the caller queues them), so no single task holds a worker for long.

    Idempotent: rows are unique per feed and post; a post already pulled stays pulled, and one
    already pushed to anyone stays pushed.
    """
    post = _live_post(post_id)
    if post is None:
        return FanOut()
    own = TimelineEntry.objects.filter(owner_id=post.author_id, post=post, reposter__isnull=True)
    if own.filter(pulled=True).exists():
        return FanOut(pulled=True)
    # Once pushed to anyone (a retry, after the author crossed the threshold), it stays pushed:
    # a post is in exactly one of the two paths, so no feed shows it twice.
    pushed = TimelineEntry.objects.filter(post=post).exclude(owner_id=post.author_id).exists()
    if not pushed and _very_followed(post.author_id):
        timeline_pull(post=post)
        return FanOut(pulled=True)
    if post.visibility == Post.Visibility.MENTIONED:
        followers = Follow.objects.filter(followee_id=post.author_id, follower__mentions__post=post)
        entries = [
            TimelineEntry(
                owner_id=follower_id, post=post, actor_id=post.author_id, created_at=post.created_at
            )
            for follower_id in followers.values_list("follower_id", flat=True)
        ]
        return FanOut(written=len(TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True)))
    return _plan(
        followee_id=post.author_id,
        push_all=lambda: timeline_push_post_chunk(post_id=post.pk, after=0, upto=None),
    )


def timeline_push_post_chunk(*, post_id: int, after: int, upto: int | None) -> int:
    """Writes a post into the feeds of its author's followers with ids in ``(after, upto]``."""
    post = _live_post(post_id)
    if post is None:
        return 0
    return _push(
        post=post, actor_id=post.author_id, created_at=post.created_at, after=after, upto=upto, repost=False
    )


def timeline_fan_out_repost(*, repost_id: int) -> FanOut:
    """Sends a repost to the reposter's followers' home feeds (not to the post's author, nor
    across a block with the author), in three steps:

    1. the reposter's own entry is written, and with it the path, once: pulled when the
       reposter is followed by more than ``FEED_FANOUT_MAX_FOLLOWERS`` (``PulledAuthor``), so
       their followers' feeds merge it in when read, as their posts;
    2. a pulled repost stops there;
    3. otherwise it is pushed at once to a few followers, in chunks beyond
       (``timeline_push_repost_chunk``).

    Idempotent: a retry reads the path from the own entry, so a repost is pushed or pulled,
    never both, whichever side of the threshold the reposter is on by then.
    """
    repost = Repost.objects.select_related("post").filter(pk=repost_id).first()
    if repost is None:
        return FanOut()
    if _repost_own_entry(repost=repost).pulled:
        return FanOut(pulled=True)
    return _plan(
        followee_id=repost.user_id,
        push_all=lambda: timeline_push_repost_chunk(repost_id=repost.pk, after=0, upto=None),
    )


@transaction.atomic
def _repost_own_entry(*, repost: Repost) -> TimelineEntry:
    """The reposter's own entry for ``repost``, written on the first run with the path decided
    then (``pulled`` for a very-followed reposter); later runs read it as it is."""
    own = TimelineEntry.objects.filter(
        owner_id=repost.user_id, post_id=repost.post_id, reposter_id=repost.user_id
    )
    entry = own.first()
    if entry is not None:
        return entry
    pulled = _very_followed(repost.user_id)
    if pulled:
        PulledAuthor.objects.get_or_create(author_id=repost.user_id)
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(
                owner_id=repost.user_id,
                post_id=repost.post_id,
                reposter_id=repost.user_id,
                actor_id=repost.user_id,
                created_at=repost.created_at,
                pulled=pulled,
            )
        ],
        ignore_conflicts=True,
    )
    return own.get()  # this run's, or a concurrent run's: the first one decided


def timeline_push_repost_chunk(*, repost_id: int, after: int, upto: int | None) -> int:
    """Writes a repost into the feeds of the reposter's followers with ids in ``(after, upto]``."""
    repost = Repost.objects.select_related("post").filter(pk=repost_id).first()
    if repost is None:
        return 0
    return _push(
        post=repost.post,
        actor_id=repost.user_id,
        created_at=repost.created_at,
        after=after,
        upto=upto,
        repost=True,
    )


def timeline_backfill(*, owner_id: int, followee_id: int, limit: int | None = None) -> int:
    """Copies the followee's recent posts the owner may see into the owner's home feed (not
    those pulled: the feed merges them in when read; reposts are not copied)."""
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        return 0
    limit = limit or settings.SOCIAL_TIMELINE_BACKFILL
    posts = (
        Post.objects.filter(visible_posts_q(owner), author_id=followee_id, reply_to__isnull=True)
        .exclude(
            pk__in=TimelineEntry.objects.filter(
                owner_id=followee_id, pulled=True, reposter__isnull=True
            ).values("post_id")
        )
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
    recreates a feed from the follow graph when needed. Pulled entries are neither trimmed nor
    counted: they are a very-followed author's posts and reposts as their followers read them,
    one row each instead of one per follower, so every follower's feed merges them in as far
    back as it goes (social/README.md, "Very-followed authors").
    """
    keep = keep or settings.SOCIAL_TIMELINE_KEEP
    ranked = (
        TimelineEntry.objects.filter(pulled=False)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("owner_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
        .filter(rank__gt=keep)
    )
    deleted, _ = TimelineEntry.objects.filter(
        pk__in=[row["pk"] for row in ranked.values("pk")[:50_000]]
    ).delete()
    return deleted


@transaction.atomic
def timeline_rebuild(*, user: User) -> int:
    """Rebuilds a home feed from scratch (after a restore, or for a long-inactive user). Keeps
    the user's own pulled entries: their followers' feeds read those."""
    TimelineEntry.objects.filter(owner=user).exclude(pulled=True).delete()
    total = timeline_backfill(owner_id=user.pk, followee_id=user.pk)
    for followee_id in Follow.objects.filter(follower=user).values_list("followee_id", flat=True):
        total += timeline_backfill(owner_id=user.pk, followee_id=followee_id)
    return total
