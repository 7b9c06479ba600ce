"""The recipient's notifications, as they may see them now."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet

from accounts.models import User
from social.models import Notification, Post
from social.selectors.visibility import blocked_either_way_q, muted_exists, visible_posts_q

# From someone whose account is active, or from the site itself (no actor: a report's outcome).
_FROM_ACTIVE = Q(actor__isnull=True) | Q(actor__is_active=True)


def notification_list(*, user: User) -> QuerySet[Any]:
    """The user's notifications, newest first, without those from people they block or mute now.

    Each row says whether the recipient may see the notification's post now
    (``post_visible``, the same rule as every other read), so the presenter quotes nothing
    of a post that was hidden, deleted, edited to drop the mention, or was never theirs to see.
    """
    qs = (
        Notification.objects.filter(_FROM_ACTIVE, recipient=user)
        .exclude(muted_exists(user.pk, "actor_id"))
        .exclude(blocked_either_way_q(user.pk, "actor_id"))
        .annotate(post_visible=Exists(Post.objects.filter(visible_posts_q(user), pk=OuterRef("post_id"))))
    )
    return qs.values(
        "id",
        "kind",
        "created_at",
        "read_at",
        "post_id",
        "post_visible",
        actor_handle=F("actor__handle"),
        actor_name=F("actor__profile__display_name"),
        actor_avatar=F("actor__profile__avatar_small"),
        post_text=F("post__text"),
        post_content_warning=F("post__content_warning"),
        report_outcome=F("moderation_action__kind"),
        report_target_handle=F("moderation_action__target_handle"),
        report_post_id=F("moderation_action__report__post_id"),
    )


def notification_unread_count(*, user: User) -> int:
    return (
        Notification.objects.filter(_FROM_ACTIVE, recipient=user, read_at__isnull=True)
        .exclude(muted_exists(user.pk, "actor_id"))
        .exclude(blocked_either_way_q(user.pk, "actor_id"))
        .count()
    )


def notification_group_list(*, user: User) -> QuerySet[Any]:
    """Unread notifications grouped by (kind, post): "alice and 3 others liked your post".

    One query per page whatever the number of notifications; ordered by ``-latest`` for the
    cursor paginator.
    """
    return (
        Notification.objects.filter(_FROM_ACTIVE, recipient=user, read_at__isnull=True)
        .exclude(muted_exists(user.pk, "actor_id"))
        .exclude(blocked_either_way_q(user.pk, "actor_id"))
        .values("kind", "post_id")
        .annotate(count=Count("id"), latest=Max("created_at"))
    )
