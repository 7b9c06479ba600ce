"""Posts and replies: publish, edit (by the author or by staff), delete, pin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.images import process_image
from accounts.models import User
from billing.entitlements import entitlements_get_for_user
from config.errors import ApplicationError, NotFoundError, PermissionDeniedError
from config.text import clean_user_text
from social import tasks
from social.feeds.fanout import timeline_entry_add_own
from social.models import (
    Hashtag,
    Mention,
    Notification,
    Post,
    PostEdit,
    PostHashtag,
    PostImage,
    TimelineEntry,
)
from social.ratelimit import rate_limit_hit
from social.selectors.visibility import POST_NOT_FOUND, post_get_for_user, visible_post_exists
from social.services._common import on_commit_task, require_active
from social.services.notifications import notification_create
from social.text import extract_hashtags, extract_mentions, render_post_text

POST_IMAGE_MAX_SIZE = (2048, 2048)
CONTENT_WARNING_MAX = 200
ALT_TEXT_MAX = 1000

# How far each visibility reaches, widest first: a reply may reach no further than its parent.
_REACH = {Post.Visibility.PUBLIC: 2, Post.Visibility.FOLLOWERS: 1, Post.Visibility.MENTIONED: 0}


@dataclass(frozen=True)
class ImageUpload:
    file: File
    alt_text: str = ""


def _clean_text(*, author: User, text: str, has_images: bool) -> str:
    text = clean_user_text(text or "", multiline=True)
    limit = entitlements_get_for_user(user=author).max_post_length
    if not text and not has_images:
        raise ApplicationError(
            "Write something first.", code="empty_post", fields={"text": ["Write something first."]}
        )
    if len(text) > limit:
        message = f"Posts can be at most {limit} characters (this one has {len(text)})."
        raise ApplicationError(message, code="post_too_long", fields={"text": [message]})
    return text


def _clean_content_warning(content_warning: str) -> str:
    content_warning = clean_user_text(content_warning or "")
    if len(content_warning) > CONTENT_WARNING_MAX:
        message = f"A content warning can be at most {CONTENT_WARNING_MAX} characters."
        raise ApplicationError(message, fields={"content_warning": [message]})
    return content_warning


def _handles_q(handles: list[str]) -> Q:
    query = Q()
    for handle in handles:
        query |= Q(handle__iexact=handle)
    return query


def _mentioned_users(*, author: User, text: str) -> list[User]:
    """Existing active users mentioned in ``text``, except the author and anyone blocked either way."""
    handles = extract_mentions(text)
    if not handles:
        return []
    return list(
        User.objects.filter(_handles_q(handles), is_active=True)
        .exclude(pk=author.pk)
        .exclude(Q(blocks_made__blocked=author) | Q(blocks_received__blocker=author))
        .select_related("profile")
        .distinct()
    )


def _render(text: str) -> str:
    handles = extract_mentions(text)
    existing = (
        list(User.objects.filter(_handles_q(handles), is_active=True).values_list("handle", flat=True))
        if handles
        else []
    )
    return render_post_text(text, existing_handles=existing)


def _set_hashtags(*, post: Post, text: str) -> None:
    names = extract_hashtags(text)
    PostHashtag.objects.filter(post=post).exclude(hashtag__name__in=names).delete()
    for name in names:
        hashtag, _ = Hashtag.objects.get_or_create(name=name)
        PostHashtag.objects.get_or_create(post=post, hashtag=hashtag)


def reply_visibility_default(*, parent: Post) -> str:
    """What a reply to ``parent`` gets unless a narrower visibility is asked for: the parent's
    (a private account's public post reaches its followers only, so replies default to that)."""
    if parent.visibility == Post.Visibility.PUBLIC and parent.author.profile.is_private:
        return Post.Visibility.FOLLOWERS
    return parent.visibility


def _reply_visibility(*, parent: Post, visibility: str | None) -> str:
    """The reply's visibility: the parent's unless a narrower one is asked for (a reply may
    never reach further than the post it answers)."""
    parent_visibility = reply_visibility_default(parent=parent)
    if visibility is None:
        return parent_visibility
    if _REACH[Post.Visibility(visibility)] > _REACH[Post.Visibility(parent_visibility)]:
        message = "A reply cannot be more visible than the post it answers."
        raise ApplicationError(message, code="reply_too_visible", fields={"visibility": [message]})
    return visibility


def _check_images(*, author: User, images: list[ImageUpload]) -> None:
    max_images = entitlements_get_for_user(user=author).max_images_per_post
    if len(images) > max_images:
        message = f"A post can have at most {max_images} images."
        raise ApplicationError(message, code="too_many_images", fields={"images": [message]})
    for image in images:
        if len(image.alt_text or "") > ALT_TEXT_MAX:
            raise ApplicationError("Alt text is too long.", fields={"alt_text": ["At most 1000 characters."]})


def _reply_parent(*, author: User, reply_to_id: int) -> Post:
    parent = post_get_for_user(user=author, post_id=reply_to_id)
    if parent.root is not None and not visible_post_exists(viewer=author, post_id=parent.root.pk):
        raise NotFoundError(POST_NOT_FOUND)
    return parent


def _save_images(*, post: Post, images: list[ImageUpload]) -> None:
    processed = [
        process_image(
            upload=image.file, max_bytes=settings.SOCIAL_POST_IMAGE_MAX_BYTES, max_size=POST_IMAGE_MAX_SIZE
        )
        for image in images
    ]
    for position, (result, image) in enumerate(zip(processed, images, strict=True)):
        row = PostImage(
            post=post,
            width=result.width,
            height=result.height,
            alt_text=clean_user_text(image.alt_text or ""),
            position=position,
        )
        row.image.save(f"{uuid.uuid4().hex}.{result.extension}", result.content, save=False)
        row.save()


def _notify_new_post(*, post: Post, parent: Post | None, mentioned: list[User]) -> None:
    """The parent's author (if they may see the reply) and everyone mentioned (who always may)."""
    if parent is not None and visible_post_exists(viewer=parent.author, post_id=post.pk):
        notification_create(
            recipient=parent.author, actor=post.author, kind=Notification.Kind.REPLY, post=post
        )
    for user in mentioned:
        if parent is not None and user.pk == parent.author_id:
            continue
        notification_create(recipient=user, actor=post.author, kind=Notification.Kind.MENTION, post=post)


@transaction.atomic
def post_create(
    *,
    author: User,
    text: str,
    visibility: str | None = None,
    content_warning: str = "",
    reply_to_id: int | None = None,
    images: list[ImageUpload] | None = None,
) -> Post:
    """Publishes a post, or a reply when ``reply_to_id`` is given.

    ``visibility`` defaults to public for a post and to the parent's for a reply; a reply may
    not be more visible than its parent (400). Refuses empty or too-long text (the limit
    comes from entitlements), more images than the plan allows, files that are not images,
    and replies to posts the author cannot see or that were deleted (404: an invisible post
    is not revealed). Mentioned users (existing, not blocked either way) are notified, as is
    the author of the post replied to when they may see the reply.
    """
    require_active(author)
    images = images or []
    if visibility is not None and visibility not in Post.Visibility.values:
        raise ApplicationError("Unknown visibility.", fields={"visibility": ["Choose a valid visibility."]})
    text = _clean_text(author=author, text=text, has_images=bool(images))
    content_warning = _clean_content_warning(content_warning)
    _check_images(author=author, images=images)

    parent: Post | None = None
    if reply_to_id is not None:
        parent = _reply_parent(author=author, reply_to_id=reply_to_id)
        visibility = _reply_visibility(parent=parent, visibility=visibility)
        rate_limit_hit(action="reply", user_id=author.pk)
    else:
        rate_limit_hit(action="post", user_id=author.pk)
    per_day = entitlements_get_for_user(user=author).posts_per_day
    rate_limit_hit(action="post_daily", user_id=author.pk, rate=f"{per_day}/d")

    mentioned = _mentioned_users(author=author, text=text)
    post = Post.objects.create(
        author=author,
        text=text,
        html=_render(text),
        visibility=visibility or Post.Visibility.PUBLIC,
        content_warning=content_warning,
        reply_to=parent,
        root=(parent.root or parent) if parent is not None else None,
    )
    Mention.objects.bulk_create([Mention(post=post, user=user) for user in mentioned])
    _set_hashtags(post=post, text=text)
    _save_images(post=post, images=images)
    if parent is not None:
        Post.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + 1)
    _notify_new_post(post=post, parent=parent, mentioned=mentioned)
    if parent is None:
        timeline_entry_add_own(post=post)
        on_commit_task(tasks.timeline_fan_out_post, post.pk)
    return post


def post_get_own(*, user: User, post_id: int) -> Post:
    """The user's own live post; 404 if they cannot see it, 403 if it is someone else's."""
    post = Post.objects.select_related("author").filter(pk=post_id, deleted_at__isnull=True).first()
    if post is None or (post.author_id != user.pk and not visible_post_exists(viewer=user, post_id=post.pk)):
        raise NotFoundError(POST_NOT_FOUND)
    if post.author_id != user.pk:
        raise PermissionDeniedError("Only the author can do that.", code="not_author")
    return post


def _post_text_change(*, post: Post, text: str | None, content_warning: str | None) -> Post:
    """Applies a new text (and content warning) to ``post``: keeps the old version, re-renders
    the HTML, updates mentions (notifying new ones, as the author) and hashtags. ``None`` leaves
    that part as it is (an API PATCH names only what changes).

    Assumes the caller checked who may edit and holds the transaction.
    """
    author = post.author
    text = (
        post.text if text is None else _clean_text(author=author, text=text, has_images=post.images.exists())
    )
    new_cw = post.content_warning if content_warning is None else _clean_content_warning(content_warning)
    if text == post.text and new_cw == post.content_warning:
        return post
    PostEdit.objects.create(post=post, text=post.text, content_warning=post.content_warning)
    before = set(post.mentions.values_list("user_id", flat=True))
    mentioned = _mentioned_users(author=author, text=text)
    post.text = text
    post.content_warning = new_cw
    post.html = _render(text)
    post.edited_at = timezone.now()
    post.save(update_fields=["text", "content_warning", "html", "edited_at"])
    Mention.objects.filter(post=post).exclude(user__in=mentioned).delete()
    for mentioned_user in mentioned:
        if mentioned_user.pk not in before:
            Mention.objects.create(post=post, user=mentioned_user)
            notification_create(
                recipient=mentioned_user, actor=author, kind=Notification.Kind.MENTION, post=post
            )
    _set_hashtags(post=post, text=text)
    return post


@transaction.atomic
def post_edit(*, user: User, post_id: int, text: str | None, content_warning: str | None = None) -> Post:
    """Changes the text (and content warning) of the author's post, keeping the old version.

    New mentions are notified; visibility cannot change (followers already received it).
    """
    require_active(user)
    return _post_text_change(
        post=post_get_own(user=user, post_id=post_id), text=text, content_warning=content_warning
    )


@transaction.atomic
def post_edit_by_staff(
    *, moderator: User, post_id: int, text: str, content_warning: str | None = None
) -> Post:
    """Staff change a post's text (the admin): the same rules, history, mentions and HTML as
    the author's own edit."""
    if not (moderator.is_active and moderator.is_staff):
        raise PermissionDeniedError("Only staff can edit other people's posts.")
    post = Post.objects.select_related("author").filter(pk=post_id).first()
    if post is None:
        raise NotFoundError(POST_NOT_FOUND)
    return _post_text_change(post=post, text=text, content_warning=content_warning)


@transaction.atomic
def post_delete(*, user: User, post_id: int) -> None:
    """Soft-deletes the author's post (staff use moderation's hide). Its replies stay, orphaned.

    Its images go for good: the rows now, the files once this commits (``social.receivers``),
    so no URL handed out before, signed or public, still shows them."""
    post = post_get_own(user=user, post_id=post_id)
    post.deleted_at = timezone.now()
    post.is_pinned = False
    post.save(update_fields=["deleted_at", "is_pinned"])
    PostImage.objects.filter(post=post).delete()
    if post.reply_to_id is not None:
        Post.objects.filter(pk=post.reply_to_id, reply_count__gt=0).update(reply_count=F("reply_count") - 1)
    TimelineEntry.objects.filter(post=post).delete()
    Notification.objects.filter(post=post).delete()


@transaction.atomic
def post_pin(*, user: User, post_id: int) -> Post:
    """Pins the author's top-level post to their profile, replacing any previously pinned one."""
    post = post_get_own(user=user, post_id=post_id)
    if post.reply_to_id is not None:
        raise ApplicationError("Only posts, not replies, can be pinned.", code="cannot_pin_reply")
    Post.objects.filter(author=user, is_pinned=True).exclude(pk=post.pk).update(is_pinned=False)
    if not post.is_pinned:
        post.is_pinned = True
        post.save(update_fields=["is_pinned"])
    return post


@transaction.atomic
def post_unpin(*, user: User, post_id: int) -> None:
    post = post_get_own(user=user, post_id=post_id)
    Post.objects.filter(pk=post.pk).update(is_pinned=False)
