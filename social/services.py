"""Writes for the social app: relationships, posts, interactions, notifications, reports.

Every service takes keyword-only arguments, runs in one transaction and raises a subclass of
``config.errors.ApplicationError`` for anything the caller got wrong. Timeline fan-out runs
after commit, in a Celery task (inline in tests and local development).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import Profile, User
from billing.entitlements import entitlements_for
from config.errors import ApplicationError, NotFoundError, PermissionDeniedError
from social import selectors
from social.models import (
    Block,
    Bookmark,
    Follow,
    FollowRequest,
    Hashtag,
    Like,
    Mention,
    Mute,
    Notification,
    Post,
    PostEdit,
    PostHashtag,
    PostImage,
    Report,
    Repost,
    TimelineEntry,
)
from social.ratelimit import rate_limit_hit
from social.text import extract_hashtags, extract_mentions, render_post_text

POST_IMAGE_MAX_SIZE = (2048, 2048)
CONTENT_WARNING_MAX = 200
ALT_TEXT_MAX = 1000


def _require_active(user: User) -> None:
    if not user.is_active:
        raise PermissionDeniedError("Your account is suspended.", code="suspended")


def _on_commit_task(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: task.delay(*args))


# --- Notifications ---------------------------------------------------------------------------------


def notification_create(
    *, recipient: User, actor: User, kind: str, post: Post | None = None
) -> Notification | None:
    """Notifies ``recipient`` unless they switched the kind off, block/mute ``actor``, or it is themself.

    The same (actor, kind, post) is notified once while unread, so like/unlike/like is no spam.
    """
    if recipient.pk == actor.pk or not recipient.is_active:
        return None
    profile = getattr(recipient, "profile", None)
    if profile is not None and not profile.wants_notification(kind):
        return None
    if selectors.is_blocked_between(a_id=recipient.pk, b_id=actor.pk):
        return None
    if Mute.objects.filter(selectors.active_mutes_q(), muter=recipient, muted=actor).exists():
        return None
    existing = Notification.objects.filter(
        recipient=recipient, actor=actor, kind=kind, post=post, read_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    return Notification.objects.create(recipient=recipient, actor=actor, kind=kind, post=post)


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> None:
    updated = Notification.objects.filter(pk=notification_id, recipient=user).update(read_at=timezone.now())
    if not updated:
        raise NotFoundError("No such notification.")


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Relationships ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowResult:
    status: str  # "following" | "requested"


@transaction.atomic
def follow_create(*, follower: User, followee: User) -> FollowResult:
    """Follows ``followee``, or asks to when the account is private. Idempotent."""
    _require_active(follower)
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="self_follow")
    if not followee.is_active or selectors.is_blocked_between(a_id=follower.pk, b_id=followee.pk):
        raise NotFoundError("No such user.")
    if Follow.objects.filter(follower=follower, followee=followee).exists():
        return FollowResult("following")
    if FollowRequest.objects.filter(requester=follower, target=followee).exists():
        return FollowResult("requested")
    rate_limit_hit(action="follow", user_id=follower.pk)
    # Read fresh: the caller's user object may carry a profile loaded before a privacy change.
    if Profile.objects.filter(user=followee, is_private=True).exists():
        FollowRequest.objects.create(requester=follower, target=followee)
        notification_create(recipient=followee, actor=follower, kind=Notification.Kind.FOLLOW_REQUEST)
        return FollowResult("requested")
    _follow_make(follower=follower, followee=followee)
    return FollowResult("following")


def _follow_make(*, follower: User, followee: User) -> None:
    Follow.objects.get_or_create(follower=follower, followee=followee)
    notification_create(recipient=followee, actor=follower, kind=Notification.Kind.FOLLOW)
    from social.tasks import timeline_backfill

    _on_commit_task(timeline_backfill, follower.pk, followee.pk)


def _timeline_forget(*, owner_id: int, actor_id: int) -> None:
    """Drops ``actor``'s posts and reposts (and reposts of their posts) from ``owner``'s feed."""
    TimelineEntry.objects.filter(
        Q(actor_id=actor_id) | Q(post__author_id=actor_id), owner_id=owner_id
    ).delete()


@transaction.atomic
def follow_delete(*, follower: User, followee: User) -> None:
    """Unfollows (or withdraws the request). Idempotent."""
    Follow.objects.filter(follower=follower, followee=followee).delete()
    FollowRequest.objects.filter(requester=follower, target=followee).delete()
    _timeline_forget(owner_id=follower.pk, actor_id=followee.pk)


@transaction.atomic
def follow_request_accept(*, owner: User, requester: User) -> None:
    deleted, _ = FollowRequest.objects.filter(requester=requester, target=owner).delete()
    if not deleted:
        raise NotFoundError("No such follow request.")
    Notification.objects.filter(
        recipient=owner, actor=requester, kind=Notification.Kind.FOLLOW_REQUEST
    ).delete()
    _follow_make(follower=requester, followee=owner)


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
    _timeline_forget(owner_id=follower.pk, actor_id=owner.pk)


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> None:
    """Blocks: ends follows and requests both ways and clears each from the other's feed."""
    if blocker.pk == blocked.pk:
        raise ApplicationError("You cannot block yourself.", code="self_block")
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    pair = Q(follower=blocker, followee=blocked) | Q(follower=blocked, followee=blocker)
    Follow.objects.filter(pair).delete()
    FollowRequest.objects.filter(
        Q(requester=blocker, target=blocked) | Q(requester=blocked, target=blocker)
    ).delete()
    _timeline_forget(owner_id=blocker.pk, actor_id=blocked.pk)
    _timeline_forget(owner_id=blocked.pk, actor_id=blocker.pk)
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


# --- Posts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageUpload:
    file: File
    alt_text: str = ""


def _clean_text(*, author: User, text: str, has_images: bool) -> str:
    text = (text or "").strip()
    limit = entitlements_for(user=author).max_post_length
    if not text and not has_images:
        raise ApplicationError(
            "Write something first.", code="empty_post", fields={"text": ["Write something first."]}
        )
    if len(text) > limit:
        message = f"Posts can be at most {limit} characters (this one has {len(text)})."
        raise ApplicationError(message, code="post_too_long", fields={"text": [message]})
    return text


def _clean_content_warning(content_warning: str) -> str:
    content_warning = (content_warning or "").strip()
    if len(content_warning) > CONTENT_WARNING_MAX:
        message = f"A content warning can be at most {CONTENT_WARNING_MAX} characters."
        raise ApplicationError(message, fields={"content_warning": [message]})
    return content_warning


def _mentioned_users(*, author: User, text: str) -> list[User]:
    """Existing active users mentioned in ``text``, except the author and anyone blocked either way."""
    handles = extract_mentions(text)
    if not handles:
        return []
    query = Q()
    for handle in handles:
        query |= Q(handle__iexact=handle)
    return list(
        User.objects.filter(query, is_active=True)
        .exclude(pk=author.pk)
        .exclude(Q(blocks_made__blocked=author) | Q(blocks_received__blocker=author))
        .select_related("profile")
        .distinct()
    )


def _link_handles(*, author: User, text: str) -> list[str]:
    handles = extract_mentions(text)
    if not handles:
        return []
    query = Q()
    for handle in handles:
        query |= Q(handle__iexact=handle)
    return list(User.objects.filter(query, is_active=True).values_list("handle", flat=True))


def _set_hashtags(*, post: Post, text: str) -> None:
    names = extract_hashtags(text)
    PostHashtag.objects.filter(post=post).exclude(hashtag__name__in=names).delete()
    for name in names:
        hashtag, _ = Hashtag.objects.get_or_create(name=name)
        PostHashtag.objects.get_or_create(post=post, hashtag=hashtag)


def _daily_limit(author: User) -> None:
    per_day = entitlements_for(user=author).posts_per_day
    rate_limit_hit(action="post_daily", user_id=author.pk, rate=f"{per_day}/d")


@transaction.atomic
def post_create(
    *,
    author: User,
    text: str,
    visibility: str = Post.Visibility.PUBLIC,
    content_warning: str = "",
    reply_to_id: int | None = None,
    images: list[ImageUpload] | None = None,
) -> Post:
    """Publishes a post, or a reply when ``reply_to_id`` is given.

    Refuses empty or too-long text (the limit comes from entitlements), more images than the
    plan allows, files that are not images, and replies to posts the author cannot see or that
    were deleted (404: an invisible post is not revealed). Mentioned users (existing, not
    blocked either way) are notified, as is the author of the post replied to.
    """
    from accounts.images import process_image

    _require_active(author)
    images = images or []
    if visibility not in Post.Visibility.values:
        raise ApplicationError("Unknown visibility.", fields={"visibility": ["Choose a valid visibility."]})
    text = _clean_text(author=author, text=text, has_images=bool(images))
    content_warning = _clean_content_warning(content_warning)
    max_images = entitlements_for(user=author).max_images_per_post
    if len(images) > max_images:
        message = f"A post can have at most {max_images} images."
        raise ApplicationError(message, code="too_many_images", fields={"images": [message]})
    for image in images:
        if len(image.alt_text or "") > ALT_TEXT_MAX:
            raise ApplicationError("Alt text is too long.", fields={"alt_text": ["At most 1000 characters."]})

    parent: Post | None = None
    if reply_to_id is not None:
        parent = selectors.post_get_for_user(user=author, post_id=reply_to_id)
        root = parent.root
        if root is not None and not selectors.can_view_post(viewer=author, post=root):
            raise NotFoundError("This post does not exist or you cannot see it.")
        rate_limit_hit(action="reply", user_id=author.pk)
    else:
        rate_limit_hit(action="post", user_id=author.pk)
    _daily_limit(author)

    processed = [
        (
            process_image(
                upload=image.file,
                max_bytes=settings.SOCIAL_POST_IMAGE_MAX_BYTES,
                max_size=POST_IMAGE_MAX_SIZE,
            ),
            image.alt_text or "",
        )
        for image in images
    ]

    mentioned = _mentioned_users(author=author, text=text)
    post = Post.objects.create(
        author=author,
        text=text,
        html=render_post_text(text, existing_handles=_link_handles(author=author, text=text)),
        visibility=visibility,
        content_warning=content_warning,
        reply_to=parent,
        root=(parent.root or parent) if parent is not None else None,
    )
    Mention.objects.bulk_create([Mention(post=post, user=user) for user in mentioned])
    _set_hashtags(post=post, text=text)
    for position, (result, alt_text) in enumerate(processed):
        image_row = PostImage(
            post=post, width=result.width, height=result.height, alt_text=alt_text, position=position
        )
        image_row.image.save(f"{uuid.uuid4().hex}.{result.extension}", result.content, save=False)
        image_row.save()

    if parent is not None:
        Post.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + 1)
        notification_create(recipient=parent.author, actor=author, kind=Notification.Kind.REPLY, post=post)
    for user in mentioned:
        if parent is not None and user.pk == parent.author_id:
            continue
        notification_create(recipient=user, actor=author, kind=Notification.Kind.MENTION, post=post)

    if parent is None:
        from social.tasks import timeline_fan_out_post

        TimelineEntry.objects.create(owner=author, post=post, actor=author, created_at=post.created_at)
        _on_commit_task(timeline_fan_out_post, post.pk)
    return post


def _own_post(*, user: User, post_id: int) -> Post:
    post = Post.objects.select_related("author").filter(pk=post_id, deleted_at__isnull=True).first()
    if post is None or (post.author_id != user.pk and not selectors.can_view_post(viewer=user, post=post)):
        raise NotFoundError("This post does not exist or you cannot see it.")
    if post.author_id != user.pk:
        raise PermissionDeniedError("Only the author can do that.", code="not_author")
    return post


@transaction.atomic
def post_edit(*, user: User, post_id: int, text: str, content_warning: str | None = None) -> Post:
    """Changes the text (and content warning) of the author's post, keeping the old version.

    New mentions are notified; visibility cannot change (followers already received it).
    """
    _require_active(user)
    post = _own_post(user=user, post_id=post_id)
    has_images = post.images.exists()
    text = _clean_text(author=user, text=text, has_images=has_images)
    new_cw = post.content_warning if content_warning is None else _clean_content_warning(content_warning)
    if text == post.text and new_cw == post.content_warning:
        return post
    PostEdit.objects.create(post=post, text=post.text, content_warning=post.content_warning)
    before = set(post.mentions.values_list("user_id", flat=True))
    mentioned = _mentioned_users(author=user, text=text)
    post.text = text
    post.content_warning = new_cw
    post.html = render_post_text(text, existing_handles=_link_handles(author=user, text=text))
    post.edited_at = timezone.now()
    post.save(update_fields=["text", "content_warning", "html", "edited_at"])
    Mention.objects.filter(post=post).exclude(user__in=mentioned).delete()
    for mentioned_user in mentioned:
        if mentioned_user.pk not in before:
            Mention.objects.create(post=post, user=mentioned_user)
            notification_create(
                recipient=mentioned_user, actor=user, kind=Notification.Kind.MENTION, post=post
            )
    _set_hashtags(post=post, text=text)
    return post


@transaction.atomic
def post_delete(*, user: User, post_id: int) -> None:
    """Soft-deletes the author's post (staff use moderation's hide). Its replies stay, orphaned."""
    post = _own_post(user=user, post_id=post_id)
    post.deleted_at = timezone.now()
    post.is_pinned = False
    post.save(update_fields=["deleted_at", "is_pinned"])
    if post.reply_to_id is not None:
        Post.objects.filter(pk=post.reply_to_id, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
    TimelineEntry.objects.filter(post=post).delete()
    Notification.objects.filter(post=post).delete()


@transaction.atomic
def post_pin(*, user: User, post_id: int) -> Post:
    """Pins the author's top-level post to their profile, replacing any previously pinned one."""
    post = _own_post(user=user, post_id=post_id)
    if post.reply_to_id is not None:
        raise ApplicationError("Only posts, not replies, can be pinned.", code="cannot_pin_reply")
    Post.objects.filter(author=user, is_pinned=True).exclude(pk=post.pk).update(is_pinned=False)
    if not post.is_pinned:
        post.is_pinned = True
        post.save(update_fields=["is_pinned"])
    return post


@transaction.atomic
def post_unpin(*, user: User, post_id: int) -> None:
    post = _own_post(user=user, post_id=post_id)
    Post.objects.filter(pk=post.pk).update(is_pinned=False)


# --- Likes, reposts, bookmarks ------------------------------------------------------------------


def _interactable(*, user: User, post_id: int) -> Post:
    _require_active(user)
    post = selectors.post_get_for_user(user=user, post_id=post_id)
    return post


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
    """Reposts a public post of a public account to the user's followers. Idempotent."""
    post = _interactable(user=user, post_id=post_id)
    if post.visibility != Post.Visibility.PUBLIC or post.author.profile.is_private:
        raise ApplicationError("Only public posts can be reposted.", code="cannot_repost")
    try:
        with transaction.atomic():
            repost = Repost.objects.create(user=user, post=post)
    except IntegrityError:
        return post
    Post.objects.filter(pk=post.pk).update(repost_count=F("repost_count") + 1)
    notification_create(recipient=post.author, actor=user, kind=Notification.Kind.REPOST, post=post)
    from social.tasks import timeline_fan_out_repost

    _on_commit_task(timeline_fan_out_repost, repost.pk)
    return post


@transaction.atomic
def repost_delete(*, user: User, post_id: int) -> None:
    deleted, _ = Repost.objects.filter(user=user, post_id=post_id).delete()
    if deleted:
        Post.objects.filter(pk=post_id, repost_count__gt=0).update(repost_count=F("repost_count") - 1)
        TimelineEntry.objects.filter(post_id=post_id, reposter=user).delete()


@transaction.atomic
def bookmark_create(*, user: User, post_id: int) -> None:
    post = selectors.post_get_for_user(user=user, post_id=post_id)
    Bookmark.objects.get_or_create(user=user, post=post)


@transaction.atomic
def bookmark_delete(*, user: User, post_id: int) -> None:
    Bookmark.objects.filter(user=user, post_id=post_id).delete()


# --- Timelines (fan-out on write) -------------------------------------------------------------


def timeline_fan_out_post_now(*, post_id: int, batch_size: int = 2000) -> int:
    """Writes a new top-level post into its author's followers' home feeds; returns the count.

    Followers-only and public posts go to every follower; a mentioned-only post only to the
    mentioned followers. Safe to run twice (unique per owner and post).
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


def timeline_fan_out_repost_now(*, repost_id: int, batch_size: int = 2000) -> int:
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
    owners = [*followers, repost.user_id]
    entries = [
        TimelineEntry(
            owner_id=owner_id,
            post_id=repost.post_id,
            reposter_id=repost.user_id,
            actor_id=repost.user_id,
            created_at=repost.created_at,
        )
        for owner_id in owners
    ]
    TimelineEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=batch_size)
    return len(entries)


def timeline_backfill_now(*, owner_id: int, followee_id: int, limit: int | None = None) -> int:
    """Copies the followee's recent posts the owner may see into the owner's home feed."""
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        return 0
    limit = limit or settings.SOCIAL_TIMELINE_BACKFILL
    posts = (
        Post.objects.filter(selectors.visible_posts_q(owner), author_id=followee_id, reply_to__isnull=True)
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
    total = timeline_backfill_now(owner_id=user.pk, followee_id=user.pk)
    for followee_id in Follow.objects.filter(follower=user).values_list("followee_id", flat=True):
        total += timeline_backfill_now(owner_id=user.pk, followee_id=followee_id)
    return total


# --- Reports --------------------------------------------------------------------------------------


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reason: str,
    comment: str = "",
    post_id: int | None = None,
    target_user: User | None = None,
) -> Report:
    """Reports a post or reply (that the reporter can see) or a user to the moderators."""
    if reason not in Report.Reason.values:
        raise ApplicationError("Choose a reason.", fields={"reason": ["Choose a valid reason."]})
    if len(comment or "") > 1000:
        raise ApplicationError("The comment is too long.", fields={"comment": ["At most 1000 characters."]})
    post: Post | None = None
    if post_id is not None:
        post = selectors.post_get_for_user(user=reporter, post_id=post_id)
        target_user = post.author
    if target_user is None:
        raise ApplicationError("Say what you are reporting.", fields={"post_id": ["Give a post or a user."]})
    if target_user.pk == reporter.pk:
        raise ApplicationError("You cannot report yourself.", code="self_report")
    return Report.objects.create(
        reporter=reporter, target_user=target_user, post=post, reason=reason, comment=comment or ""
    )
