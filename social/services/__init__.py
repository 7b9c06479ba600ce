"""Writes for the social app, one module per subdomain: ``posts`` (publish, edit, delete, pin),
``interactions`` (likes, reposts, bookmarks), ``relationships`` (follows, requests, blocks,
mutes), ``notifications``, ``reports``. Home-timeline writes live in ``social.feeds.fanout``
(the Celery tasks run them).

Every service takes keyword-only arguments, runs in one transaction and raises a subclass of
``config.errors.ApplicationError`` for anything the caller got wrong. This package re-exports
each module's services, so callers write ``services.post_create(...)``.
"""

from __future__ import annotations

from social.feeds.fanout import timeline_rebuild, timeline_trim
from social.services.interactions import (
    bookmark_create,
    bookmark_delete,
    like_create,
    like_delete,
    repost_create,
    repost_delete,
)
from social.services.notifications import (
    notification_create,
    notification_mark_all_read,
    notification_mark_read,
    notification_report_reviewed_create,
)
from social.services.posts import (
    ImageUpload,
    post_create,
    post_delete,
    post_edit,
    post_edit_by_staff,
    post_pin,
    post_unpin,
    reply_visibility_default,
)
from social.services.relationships import (
    FollowResult,
    block_create,
    block_delete,
    follow_create,
    follow_delete,
    follow_request_accept,
    follow_request_accept_all,
    follow_request_reject,
    follower_remove,
    mute_create,
    mute_delete,
)
from social.services.reports import report_create

__all__ = [
    "FollowResult",
    "ImageUpload",
    "block_create",
    "block_delete",
    "bookmark_create",
    "bookmark_delete",
    "follow_create",
    "follow_delete",
    "follow_request_accept",
    "follow_request_accept_all",
    "follow_request_reject",
    "follower_remove",
    "like_create",
    "like_delete",
    "mute_create",
    "mute_delete",
    "notification_create",
    "notification_mark_all_read",
    "notification_mark_read",
    "notification_report_reviewed_create",
    "post_create",
    "post_delete",
    "post_edit",
    "post_edit_by_staff",
    "post_pin",
    "post_unpin",
    "reply_visibility_default",
    "report_create",
    "repost_create",
    "repost_delete",
    "timeline_rebuild",
    "timeline_trim",
]
