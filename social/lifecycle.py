"""What the social app contributes to a data export and to an account deletion."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from accounts.models import User
from social.models import (
    Block,
    Bookmark,
    Follow,
    FollowRequest,
    Like,
    Mute,
    Notification,
    Post,
    Report,
    Repost,
    TimelineEntry,
)

SECTION = "social"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def social_export(*, user: User) -> dict[str, Any]:
    """Everything the user wrote or decided here, as JSON."""
    posts = [
        {
            "id": row["id"],
            "text": row["text"],
            "visibility": row["visibility"],
            "content_warning": row["content_warning"],
            "reply_to_id": row["reply_to_id"],
            "created_at": _iso(row["created_at"]),
            "edited_at": _iso(row["edited_at"]),
            "deleted_at": _iso(row["deleted_at"]),
        }
        for row in Post.objects.filter(author=user)
        .order_by("created_at")
        .values(
            "id",
            "text",
            "visibility",
            "content_warning",
            "reply_to_id",
            "created_at",
            "edited_at",
            "deleted_at",
        )
    ]
    return {
        "posts": posts,
        "following": list(Follow.objects.filter(follower=user).values_list("followee__handle", flat=True)),
        "followers": list(Follow.objects.filter(followee=user).values_list("follower__handle", flat=True)),
        "follow_requests_sent": list(
            FollowRequest.objects.filter(requester=user).values_list("target__handle", flat=True)
        ),
        "likes": list(Like.objects.filter(user=user).values_list("post_id", flat=True)),
        "reposts": list(Repost.objects.filter(user=user).values_list("post_id", flat=True)),
        "bookmarks": list(Bookmark.objects.filter(user=user).values_list("post_id", flat=True)),
        "blocked": list(Block.objects.filter(blocker=user).values_list("blocked__handle", flat=True)),
        "muted": list(Mute.objects.filter(muter=user).values_list("muted__handle", flat=True)),
        "reports_made": [
            {"reason": r["reason"], "comment": r["comment"], "created_at": _iso(r["created_at"])}
            for r in Report.objects.filter(reporter=user).values("reason", "comment", "created_at")
        ],
    }


def social_erase(*, user: User) -> None:
    """Removes the user's social data before the user row goes.

    Counters on other people's posts are corrected; image files are deleted after commit.
    Replies other people wrote to the user's posts go with the thread (they cascade).
    Reports and moderation actions about the user stay, with the handle they had (moderation
    history outlives the account).
    """
    for post_id in Like.objects.filter(user=user).values_list("post_id", flat=True):
        Post.objects.filter(pk=post_id, like_count__gt=0).update(like_count=F("like_count") - 1)
    for post_id in Repost.objects.filter(user=user).values_list("post_id", flat=True):
        Post.objects.filter(pk=post_id, repost_count__gt=0).update(repost_count=F("repost_count") - 1)
    for parent_id in (
        Post.objects.filter(author=user, reply_to__isnull=False, deleted_at__isnull=True)
        .exclude(reply_to__author=user)
        .values_list("reply_to_id", flat=True)
    ):
        Post.objects.filter(pk=parent_id, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
    Like.objects.filter(user=user).delete()
    Repost.objects.filter(user=user).delete()
    Bookmark.objects.filter(user=user).delete()
    TimelineEntry.objects.filter(owner=user).delete()
    TimelineEntry.objects.filter(reposter=user).delete()
    Notification.objects.filter(recipient=user).delete()
    Notification.objects.filter(actor=user).delete()
    Follow.objects.filter(follower=user).delete()
    Follow.objects.filter(followee=user).delete()
    FollowRequest.objects.filter(requester=user).delete()
    FollowRequest.objects.filter(target=user).delete()
    Block.objects.filter(blocker=user).delete()
    Block.objects.filter(blocked=user).delete()
    Mute.objects.filter(muter=user).delete()
    Mute.objects.filter(muted=user).delete()
    Report.objects.filter(reporter=user).delete()
    # Their images (and those of other people's replies in their threads) go with the rows; each
    # file is removed from storage once the deletion commits (social.receivers.post_image_deleted).
    Post.objects.filter(author=user).delete()
