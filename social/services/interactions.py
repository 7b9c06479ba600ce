"""Likes, reposts and bookmarks: idempotent, counters changed only when a row really changes."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from accounts.models import User
from config.errors import ApplicationError
from social import tasks
from social.models import Bookmark, Like, Notification, Post, Repost, TimelineEntry
from social.selectors.visibility import post_get_for_user
from social.services._common import on_commit_task, require_active
from social.services.notifications import notification_create


def _interactable(*, user: User, post_id: int) -> Post:
    require_active(user)
    return post_get_for_user(user=user, post_id=post_id)


@transaction.atomic
def like_create(*, user: User, post_id: int) -> Post:
    """Likes a visible post or reply. Liking twice changes nothing."""
    post = _interactable(user=user, post_id=post_id)
    try:
        with transaction.atomic():
            Like.objects.create(user=user, post=post)
    except IntegrityError:
        return post
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    notification_create(recipient=post.author, actor=user, kind=Notification.Kind.LIKE, post=post)
    return post


@transaction.atomic
def like_delete(*, user: User, post_id: int) -> None:
    deleted, _ = Like.objects.filter(user=user, post_id=post_id).delete()
    if deleted:
        Post.objects.filter(pk=post_id, like_count__gt=0).update(like_count=F("like_count") - 1)


@transaction.atomic
def repost_create(*, user: User, post_id: int) -> Post:
    """Reposts a public post of a public account to the user's followers. Idempotent.

    ``presenters.post_present``'s ``repostable`` states the same rule for the pages.
    """
    post = _interactable(user=user, post_id=post_id)
    if post.visibility != Post.Visibility.PUBLIC or post.author.profile.is_private:
        raise ApplicationError("Only public posts of public accounts can be reposted.", code="cannot_repost")
    try:
        with transaction.atomic():
            repost = Repost.objects.create(user=user, post=post)
    except IntegrityError:
        return post
    Post.objects.filter(pk=post.pk).update(repost_count=F("repost_count") + 1)
    notification_create(recipient=post.author, actor=user, kind=Notification.Kind.REPOST, post=post)
    on_commit_task(tasks.timeline_fan_out_repost, repost.pk)
    return post


@transaction.atomic
def repost_delete(*, user: User, post_id: int) -> None:
    deleted, _ = Repost.objects.filter(user=user, post_id=post_id).delete()
    if deleted:
        Post.objects.filter(pk=post_id, repost_count__gt=0).update(repost_count=F("repost_count") - 1)
        TimelineEntry.objects.filter(post_id=post_id, reposter=user).delete()


@transaction.atomic
def bookmark_create(*, user: User, post_id: int) -> None:
    post = post_get_for_user(user=user, post_id=post_id)
    Bookmark.objects.get_or_create(user=user, post=post)


@transaction.atomic
def bookmark_delete(*, user: User, post_id: int) -> None:
    Bookmark.objects.filter(user=user, post_id=post_id).delete()
