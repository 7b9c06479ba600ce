from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from social import views

app_name = "social"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("explore/", views.explore, name="explore"),
    path("bookmarks/", views.bookmarks, name="bookmarks"),
    path("tags/<str:tag>/", views.tag, name="tag"),
    path("search/", views.search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("settings/relationships/", views.relationships, name="relationships"),
    path("posts/<int:post_id>/", views.post_detail, name="post"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="post_delete"),
    path("posts/<int:post_id>/like/", views.post_like, name="post_like"),
    path("posts/<int:post_id>/repost/", views.post_repost, name="post_repost"),
    path("posts/<int:post_id>/bookmark/", views.post_bookmark, name="post_bookmark"),
    path("posts/<int:post_id>/pin/", views.post_pin, name="post_pin"),
    path("posts/<int:post_id>/report/", views.report, name="post_report"),
    path("@<str:handle>", views.profile, name="profile"),
    path("@<str:handle>/followers/", views.followers, name="followers"),
    path("@<str:handle>/following/", views.following, name="following"),
    path("@<str:handle>/follow/", views.user_follow, name="follow"),
    path("@<str:handle>/block/", views.user_block, name="block"),
    path("@<str:handle>/mute/", views.user_mute, name="mute"),
    path("@<str:handle>/report/", views.report, name="user_report"),
    path("@<str:handle>/remove-follower/", views.follower_remove, name="follower_remove"),
    path("@<str:handle>/accept/", views.follow_request_accept, name="follow_request_accept"),
    path("@<str:handle>/reject/", views.follow_request_reject, name="follow_request_reject"),
]
