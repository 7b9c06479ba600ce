from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from social.api import views as v

app_name = "social_api"
urlpatterns: list[URLPattern | URLResolver] = [
    # Posts and replies
    path("posts/", v.PostCreateApi.as_view(), name="post-create"),
    path("posts/<int:post_id>/", v.PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/edits/", v.PostEditHistoryApi.as_view(), name="post-edits"),
    path("posts/<int:post_id>/replies/", v.PostRepliesApi.as_view(), name="post-replies"),
    path("posts/<int:post_id>/like/", v.PostLikeApi.as_view(), name="post-like"),
    path("posts/<int:post_id>/repost/", v.PostRepostApi.as_view(), name="post-repost"),
    path("posts/<int:post_id>/bookmark/", v.PostBookmarkApi.as_view(), name="post-bookmark"),
    path("posts/<int:post_id>/pin/", v.PostPinApi.as_view(), name="post-pin"),
    path("bookmarks/", v.BookmarkListApi.as_view(), name="bookmarks"),
    # Feeds
    path("feeds/home/", v.HomeFeedApi.as_view(), name="feed-home"),
    path("feeds/explore/", v.ExploreFeedApi.as_view(), name="feed-explore"),
    path("users/<str:handle>/posts/", v.UserPostsApi.as_view(), name="user-posts"),
    path("tags/<str:tag>/posts/", v.TagPostsApi.as_view(), name="tag-posts"),
    # Relationships
    path("users/<str:handle>/follow/", v.UserFollowApi.as_view(), name="user-follow"),
    path("users/<str:handle>/relationship/", v.UserRelationshipApi.as_view(), name="user-relationship"),
    path("users/<str:handle>/followers/", v.FollowersListApi.as_view(), name="user-followers"),
    path("users/<str:handle>/following/", v.FollowingListApi.as_view(), name="user-following"),
    path("users/<str:handle>/block/", v.UserBlockApi.as_view(), name="user-block"),
    path("users/<str:handle>/mute/", v.UserMuteApi.as_view(), name="user-mute"),
    path("followers/<str:handle>/", v.FollowerRemoveApi.as_view(), name="follower-remove"),
    path("follow-requests/", v.FollowRequestListApi.as_view(), name="follow-requests"),
    path(
        "follow-requests/<str:handle>/accept/",
        v.FollowRequestAcceptApi.as_view(),
        name="follow-request-accept",
    ),
    path(
        "follow-requests/<str:handle>/reject/",
        v.FollowRequestRejectApi.as_view(),
        name="follow-request-reject",
    ),
    path("blocks/", v.BlockListApi.as_view(), name="blocks"),
    path("mutes/", v.MuteListApi.as_view(), name="mutes"),
    # Notifications
    path("notifications/", v.NotificationListApi.as_view(), name="notifications"),
    path("notifications/unread-count/", v.NotificationUnreadCountApi.as_view(), name="notifications-unread"),
    path("notifications/groups/", v.NotificationGroupsApi.as_view(), name="notifications-groups"),
    path("notifications/read-all/", v.NotificationMarkAllReadApi.as_view(), name="notifications-read-all"),
    path(
        "notifications/<int:notification_id>/read/",
        v.NotificationMarkReadApi.as_view(),
        name="notification-read",
    ),
    # Search
    path("search/posts/", v.SearchPostsApi.as_view(), name="search-posts"),
    path("search/users/", v.SearchUsersApi.as_view(), name="search-users"),
    path("search/hashtags/", v.SearchHashtagsApi.as_view(), name="search-hashtags"),
    # Reports
    path("reports/", v.ReportCreateApi.as_view(), name="report-create"),
]
