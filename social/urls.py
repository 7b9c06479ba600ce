from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from social.views import feeds, media, notifications, posts, relationships, search

app_name = "social"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", feeds.home, name="home"),
    path("explore/", feeds.explore, name="explore"),
    path("bookmarks/", feeds.bookmarks, name="bookmarks"),
    path("tags/<str:tag>/", feeds.tag, name="tag"),
    path("search/", search.search, name="search"),
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/badge/", notifications.notification_badge, name="notification_badge"),
    path("notifications/read-all/", notifications.notifications_read_all, name="notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read/", notifications.notification_read, name="notification_read"
    ),
    path("follow-requests/", relationships.follow_requests, name="follow_requests"),
    path("settings/relationships/", relationships.relationships, name="relationships"),
    path("posts/<int:post_id>/", posts.post_detail, name="post"),
    path("posts/<int:post_id>/edit/", posts.post_edit, name="post_edit"),
    path("posts/<int:post_id>/delete/", posts.post_delete, name="post_delete"),
    path("posts/<int:post_id>/like/", posts.post_like, name="post_like"),
    path("posts/<int:post_id>/repost/", posts.post_repost, name="post_repost"),
    path("posts/<int:post_id>/bookmark/", posts.post_bookmark, name="post_bookmark"),
    path("posts/<int:post_id>/pin/", posts.post_pin, name="post_pin"),
    path("posts/<int:post_id>/report/", posts.report, name="post_report"),
    # Post images on the local disk, checked against the post (config.storage.media_url makes
    # these URLs; "withdrawn/" holds a hidden post's images, see services.media).
    re_path(r"^media/(?P<name>(?:posts|withdrawn)/.+)$", media.post_image, name="post_image"),
    path("@<str:handle>", feeds.profile, name="profile"),
    path("@<str:handle>/followers/", feeds.followers, name="followers"),
    path("@<str:handle>/following/", feeds.following, name="following"),
    path("@<str:handle>/follow/", relationships.user_follow, name="follow"),
    path("@<str:handle>/block/", relationships.user_block, name="block"),
    path("@<str:handle>/mute/", relationships.user_mute, name="mute"),
    path("@<str:handle>/report/", posts.report, name="user_report"),
    path("@<str:handle>/remove-follower/", relationships.follower_remove, name="follower_remove"),
    path("@<str:handle>/accept/", relationships.follow_request_accept, name="follow_request_accept"),
    path("@<str:handle>/reject/", relationships.follow_request_reject, name="follow_request_reject"),
]
