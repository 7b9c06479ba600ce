from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from social.api.views import feeds, notifications, posts, relationships, reports, search

app_name = "social_api"
urlpatterns: list[URLPattern | URLResolver] = [
    # Posts and replies
    path("posts/", posts.PostCreateApi.as_view(), name="post-create"),
    path("posts/<int:post_id>/", posts.PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/edits/", posts.PostEditListApi.as_view(), name="post-edits"),
    path("posts/<int:post_id>/replies/", posts.PostReplyListApi.as_view(), name="post-replies"),
    path("posts/<int:post_id>/like/", posts.PostLikeApi.as_view(), name="post-like"),
    path("posts/<int:post_id>/repost/", posts.PostRepostApi.as_view(), name="post-repost"),
    path("posts/<int:post_id>/bookmark/", posts.PostBookmarkApi.as_view(), name="post-bookmark"),
    path("posts/<int:post_id>/pin/", posts.PostPinApi.as_view(), name="post-pin"),
    path("bookmarks/", posts.BookmarkListApi.as_view(), name="bookmarks"),
    # Feeds
    path("feeds/home/", feeds.HomeFeedListApi.as_view(), name="feed-home"),
    path("feeds/explore/", feeds.ExploreFeedListApi.as_view(), name="feed-explore"),
    path("users/<str:handle>/posts/", feeds.UserPostListApi.as_view(), name="user-posts"),
    path("tags/<str:tag>/posts/", feeds.TagPostListApi.as_view(), name="tag-posts"),
    # Relationships
    path("users/<str:handle>/follow/", relationships.UserFollowApi.as_view(), name="user-follow"),
    path(
        "users/<str:handle>/relationship/",
        relationships.UserRelationshipApi.as_view(),
        name="user-relationship",
    ),
    path("users/<str:handle>/followers/", relationships.FollowerListApi.as_view(), name="user-followers"),
    path("users/<str:handle>/following/", relationships.FollowingListApi.as_view(), name="user-following"),
    path("users/<str:handle>/block/", relationships.UserBlockApi.as_view(), name="user-block"),
    path("users/<str:handle>/mute/", relationships.UserMuteApi.as_view(), name="user-mute"),
    path("followers/<str:handle>/", relationships.FollowerRemoveApi.as_view(), name="follower-remove"),
    path("follow-requests/", relationships.FollowRequestListApi.as_view(), name="follow-requests"),
    path(
        "follow-requests/<str:handle>/accept/",
        relationships.FollowRequestAcceptApi.as_view(),
        name="follow-request-accept",
    ),
    path(
        "follow-requests/<str:handle>/reject/",
        relationships.FollowRequestRejectApi.as_view(),
        name="follow-request-reject",
    ),
    path("blocks/", relationships.BlockListApi.as_view(), name="blocks"),
    path("mutes/", relationships.MuteListApi.as_view(), name="mutes"),
    # Notifications
    path("notifications/", notifications.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/unread-count/",
        notifications.NotificationUnreadCountApi.as_view(),
        name="notifications-unread",
    ),
    path(
        "notifications/groups/", notifications.NotificationGroupListApi.as_view(), name="notifications-groups"
    ),
    path(
        "notifications/read-all/",
        notifications.NotificationMarkAllReadApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.NotificationMarkReadApi.as_view(),
        name="notification-read",
    ),
    # Search
    path("search/posts/", search.PostSearchApi.as_view(), name="search-posts"),
    path("search/users/", search.UserSearchApi.as_view(), name="search-users"),
    path("search/hashtags/", search.HashtagSearchApi.as_view(), name="search-hashtags"),
    # Reports
    path("reports/", reports.ReportCreateApi.as_view(), name="report-create"),
]
