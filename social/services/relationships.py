"""Follows, follow requests, blocks and mutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile, User
from config.errors import ApplicationError, NotFoundError
from social import tasks
from social.feeds.fanout import timeline_forget
from social.models import Block, Follow, FollowRequest, Mute, Notification
from social.ratelimit import rate_limit_hit
from social.selectors.visibility import block_exists_between
from social.services._common import on_commit_task, require_active
from social.services.notifications import notification_create


@dataclass(frozen=True)
class FollowResult:
    status: str  # "following" | "requested"


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> FollowResult:
    """Follows ``followee``, or asks to when the account is private. Idempotent."""
    require_active(follower)
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="self_follow")
    if not followee.is_active or block_exists_between(a_id=follower.pk, b_id=followee.pk):
        raise NotFoundError("No such user.")
    if Follow.objects.filter(follower=follower, followee=followee).exists():
        return FollowResult("following")
    # Read fresh: the caller's user object may carry a profile loaded before a privacy change.
    private = Profile.objects.filter(user=followee, is_private=True).exists()
    if FollowRequest.objects.filter(requester=follower, target=followee).exists():
        if private:
            return FollowResult("requested")
        # The account went public while the request waited: it needs no answer any more.
        _follow_request_grant(owner=followee, requester=follower)
        return FollowResult("following")
    rate_limit_hit(action="follow", user_id=follower.pk)
    if private:
        FollowRequest.objects.create(requester=follower, target=followee)
        notification_create(recipient=followee, actor=follower, kind=Notification.Kind.FOLLOW_REQUEST)
        return FollowResult("requested")
    _follow_make(follower=follower, followee=followee)
    return FollowResult("following")


def _follow_make(*, follower: User, followee: User) -> None:
    Follow.objects.get_or_create(follower=follower, followee=followee)
    notification_create(recipient=followee, actor=follower, kind=Notification.Kind.FOLLOW)
    on_commit_task(tasks.timeline_backfill, follower.pk, followee.pk)


def _follow_request_grant(*, owner: User, requester: User) -> bool:
    """Turns a pending request into a follow and tells the requester; False when there was no
    such request."""
    deleted, _ = FollowRequest.objects.filter(requester=requester, target=owner).delete()
    if not deleted:
        return False
    Notification.objects.filter(
        recipient=owner, actor=requester, kind=Notification.Kind.FOLLOW_REQUEST
    ).delete()
    _follow_make(follower=requester, followee=owner)
    notification_create(recipient=requester, actor=owner, kind=Notification.Kind.FOLLOW_ACCEPTED)
    return True


@transaction.atomic
def follow_delete(*, follower: User, followee: User) -> None:
    """Unfollows (or withdraws the request). Idempotent."""
    Follow.objects.filter(follower=follower, followee=followee).delete()
    FollowRequest.objects.filter(requester=follower, target=followee).delete()
    timeline_forget(owner_id=follower.pk, actor_id=followee.pk)


@transaction.atomic
def follow_request_accept(*, owner: User, requester: User) -> None:
    if not _follow_request_grant(owner=owner, requester=requester):
        raise NotFoundError("No such follow request.")


@transaction.atomic
def follow_request_accept_all(*, owner: User) -> int:
    """Accepts every pending request to follow ``owner`` (their account just went public, so
    nobody needs asking any more); returns how many."""
    requesters = User.objects.filter(sent_follow_requests__target=owner, is_active=True)
    accepted = sum(_follow_request_grant(owner=owner, requester=requester) for requester in requesters)
    FollowRequest.objects.filter(target=owner).delete()  # from suspended people: nothing to grant
    return accepted


@transaction.atomic
def follow_request_reject(*, owner: User, requester: User) -> None:
    deleted, _ = FollowRequest.objects.filter(requester=requester, target=owner).delete()
    if not deleted:
        raise NotFoundError("No such follow request.")
    Notification.objects.filter(
        recipient=owner, actor=requester, kind=Notification.Kind.FOLLOW_REQUEST
    ).delete()


@transaction.atomic
def follower_remove(*, owner: User, follower: User) -> None:
    """The owner removes someone from their followers."""
    deleted, _ = Follow.objects.filter(follower=follower, followee=owner).delete()
    if not deleted:
        raise NotFoundError("This person does not follow you.")
    timeline_forget(owner_id=follower.pk, actor_id=owner.pk)


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> None:
    """Blocks: ends follows and requests both ways and clears each from the other's feed."""
    if blocker.pk == blocked.pk:
        raise ApplicationError("You cannot block yourself.", code="self_block")
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    Follow.objects.filter(
        Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)
    ).delete()
    FollowRequest.objects.filter(
        Q(requester=blocker, target=blocked) | Q(requester=blocked, target=blocker)
    ).delete()
    timeline_forget(owner_id=blocker.pk, actor_id=blocked.pk)
    timeline_forget(owner_id=blocked.pk, actor_id=blocker.pk)
    Notification.objects.filter(
        Q(recipient=blocker, actor=blocked) | Q(recipient=blocked, actor=blocker)
    ).delete()


@transaction.atomic
def block_delete(*, blocker: User, blocked: User) -> None:
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()


@transaction.atomic
def mute_create(*, muter: User, muted: User, duration: timedelta | None = None) -> Mute:
    """Mutes ``muted`` for ``duration`` (or until unmuted). Muting again replaces the duration."""
    if muter.pk == muted.pk:
        raise ApplicationError("You cannot mute yourself.", code="self_mute")
    expires_at = timezone.now() + duration if duration else None
    mute, _ = Mute.objects.update_or_create(muter=muter, muted=muted, defaults={"expires_at": expires_at})
    return mute


@transaction.atomic
def mute_delete(*, muter: User, muted: User) -> None:
    Mute.objects.filter(muter=muter, muted=muted).delete()
