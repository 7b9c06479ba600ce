"""Reads for the social app, always scoped to the viewer, one module per subdomain:
``visibility`` (the one rule for who sees what, blocks, mutes, relationship flags), ``posts``
(posts, threads, non-home lists), ``relationships`` (people lists), ``notifications``,
``search``, ``discovery`` (whom to follow, trending tags, profile counts). The home
timeline's read lives in ``social.feeds.home``.

This package re-exports each module's public functions, so callers write
``selectors.post_get_for_user(...)``.
"""

from __future__ import annotations

from social.selectors.discovery import hashtag_list_trending, profile_counts_get, user_list_suggested
from social.selectors.notifications import (
    notification_group_list,
    notification_list,
    notification_unread_count,
)
from social.selectors.posts import (
    post_edit_list,
    post_get_pinned,
    post_get_shown,
    post_image_get_for_viewer,
    post_list_ancestors,
    post_list_bookmarked,
    post_list_explore,
    post_list_for_profile,
    post_list_for_tag,
    post_list_from_rows,
    post_list_replies,
    post_list_thread,
)
from social.selectors.relationships import (
    block_list,
    follow_request_list,
    follower_list,
    following_list,
    mute_list,
)
from social.selectors.search import hashtag_list_search, post_list_search, user_list_search
from social.selectors.visibility import (
    Viewer,
    active_mutes_q,
    block_exists_between,
    follow_exists,
    mute_exists,
    post_get_for_user,
    profile_posts_visible,
    relationship_get,
    user_get_by_handle,
    user_get_visible,
    visible_post_exists,
    visible_posts_q,
)

__all__ = [
    "Viewer",
    "hashtag_list_trending",
    "profile_counts_get",
    "user_list_suggested",
    "active_mutes_q",
    "block_exists_between",
    "block_list",
    "follow_exists",
    "follow_request_list",
    "follower_list",
    "following_list",
    "hashtag_list_search",
    "mute_exists",
    "mute_list",
    "notification_group_list",
    "notification_list",
    "notification_unread_count",
    "post_edit_list",
    "post_get_for_user",
    "post_get_pinned",
    "post_get_shown",
    "post_image_get_for_viewer",
    "post_list_ancestors",
    "post_list_bookmarked",
    "post_list_explore",
    "post_list_for_profile",
    "post_list_for_tag",
    "post_list_from_rows",
    "post_list_replies",
    "post_list_search",
    "post_list_thread",
    "profile_posts_visible",
    "relationship_get",
    "user_get_by_handle",
    "user_get_visible",
    "user_list_search",
    "visible_post_exists",
    "visible_posts_q",
]
