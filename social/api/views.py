"""The social API: posts, replies, interactions, feeds, relationships, notifications, search, reports.

Views parse input, call one service or selector and return its result. Lists are cursor
paginated and built from ``values()`` rows (see social/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from config.api import DefaultCursorPagination, KeysetCursor, raw_page_response
from config.errors import NotFoundError
from config.scopes import RequiredScopes
from social import selectors, services
from social.api import serializers as s

POSTS = RequiredScopes(read="posts:read", write="posts:write")
FOLLOWS = RequiredScopes(read="follows:read", write="follows:write")
# Marking notifications read changes nothing anyone else sees: the read scope covers it.
NOTIFICATIONS = RequiredScopes(read="notifications:read", write="notifications:read")

_ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{error: {code, message, fields}}`."),
    403: OpenApiResponse(description="Not allowed (API key scope, suspended account, not the author)."),
    404: OpenApiResponse(description="Not found, or not visible to you."),
    429: OpenApiResponse(description="Rate limited; see Retry-After."),
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


class HandlePagination(DefaultCursorPagination):
    ordering = "handle"


class NamePagination(DefaultCursorPagination):
    ordering = "name"


def _user_out(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        item = {
            "handle": row["handle"],
            "display_name": row["display_name"] or row["handle"],
            "avatar_url": selectors.avatar_url(row["avatar"]),
            "since": row["created_at"],
        }
        if "expires_at" in row:
            item["expires_at"] = row["expires_at"]
        out.append(item)
    return out


class _ListApi(GenericAPIView):
    """A GET list of rows: paginate the selector's queryset, then turn the page into dicts."""

    pagination_class = DefaultCursorPagination

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        raise NotImplementedError

    transform: Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]] = staticmethod(selectors.post_rows)  # type: ignore[assignment]

    def get(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.rows(request, **kwargs))
        assert page is not None  # noqa: S101 - pagination_class is always set
        return self.get_paginated_response(self.transform(page))


def _as_list(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(rows)


def _user(request: Request, handle: str) -> User:
    return selectors.user_get_visible(viewer=request.user, handle=handle)


# --- Posts --------------------------------------------------------------------------------------


class PostCreateApi(GenericAPIView):
    required_scopes = POSTS
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    serializer_class = s.PostCreateInputSerializer

    @extend_schema(
        request={
            "application/json": s.PostCreateInputSerializer,
            "multipart/form-data": s.PostCreateInputSerializer,
        },
        responses={201: s.PostOutputSerializer, **_errors(400, 403, 404, 429)},
        summary="Publish a post (or a reply with reply_to_id); images as multipart.",
    )
    def post(self, request: Request) -> Response:
        data = s.PostCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        alts = v["alt_texts"]
        images = [
            services.ImageUpload(file=f, alt_text=alts[i] if i < len(alts) else "")
            for i, f in enumerate(v["images"])
        ]
        post = services.post_create(
            author=request.user,  # type: ignore[arg-type]
            text=v["text"],
            visibility=v["visibility"],
            content_warning=v["content_warning"],
            reply_to_id=v.get("reply_to_id"),
            images=images,
        )
        return Response(
            selectors.post_row(viewer=request.user, post_id=post.pk), status=status.HTTP_201_CREATED
        )


class PostDetailApi(GenericAPIView):
    required_scopes = POSTS
    serializer_class = s.PostOutputSerializer

    @extend_schema(responses={200: s.PostOutputSerializer, **_errors(404)})
    def get(self, request: Request, post_id: int) -> Response:
        return Response(selectors.post_row(viewer=request.user, post_id=post_id))

    @extend_schema(
        request=s.PostEditInputSerializer, responses={200: s.PostOutputSerializer, **_errors(400, 403, 404)}
    )
    def patch(self, request: Request, post_id: int) -> Response:
        data = s.PostEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_edit(
            user=request.user,  # type: ignore[arg-type]
            post_id=post_id,
            text=data.validated_data["text"],
            content_warning=data.validated_data.get("content_warning"),
        )
        return Response(selectors.post_row(viewer=request.user, post_id=post_id))

    @extend_schema(request=None, responses={204: None, **_errors(403, 404)})
    def delete(self, request: Request, post_id: int) -> Response:
        services.post_delete(user=request.user, post_id=post_id)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostEditHistoryApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_edit_history(viewer=request.user, post_id=kwargs["post_id"]).values(
            "id", "text", "content_warning", "created_at"
        )

    transform = staticmethod(_as_list)

    @extend_schema(
        responses={200: s.PostEditOutputSerializer(many=True), **_errors(404)}, summary="Earlier versions"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class PostRepliesApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        post = selectors.post_get_for_user(user=request.user, post_id=kwargs["post_id"])
        return selectors.replies_feed(viewer=request.user, post=post)

    @extend_schema(
        responses={200: s.PostOutputSerializer(many=True), **_errors(404)}, summary="Direct replies"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(
        request=s.ReplyCreateInputSerializer,
        responses={201: s.PostOutputSerializer, **_errors(400, 403, 404, 429)},
    )
    def post(self, request: Request, post_id: int) -> Response:
        data = s.ReplyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.post_create(
            author=request.user,  # type: ignore[arg-type]
            reply_to_id=post_id,
            **data.validated_data,
        )
        return Response(
            selectors.post_row(viewer=request.user, post_id=reply.pk), status=status.HTTP_201_CREATED
        )


def _toggle_api(
    name: str,
    on: Callable[..., Any],
    off: Callable[..., Any],
    summary: str,
) -> type[GenericAPIView]:
    """PUT/POST does it, DELETE undoes it; both idempotent and answer with the post."""

    class ToggleApi(GenericAPIView):
        required_scopes = POSTS
        serializer_class = s.PostOutputSerializer

        @extend_schema(
            request=None, responses={200: s.PostOutputSerializer, **_errors(400, 403, 404)}, summary=summary
        )
        def post(self, request: Request, post_id: int) -> Response:
            on(user=request.user, post_id=post_id)
            return Response(selectors.post_row(viewer=request.user, post_id=post_id))

        @extend_schema(
            request=None, responses={200: s.PostOutputSerializer, **_errors(404)}, summary=f"Undo: {summary}"
        )
        def delete(self, request: Request, post_id: int) -> Response:
            off(user=request.user, post_id=post_id)
            return Response(selectors.post_row(viewer=request.user, post_id=post_id))

    ToggleApi.__name__ = ToggleApi.__qualname__ = name
    return ToggleApi


PostLikeApi = _toggle_api("PostLikeApi", services.like_create, services.like_delete, "Like")
PostRepostApi = _toggle_api("PostRepostApi", services.repost_create, services.repost_delete, "Repost")
PostBookmarkApi = _toggle_api(
    "PostBookmarkApi", services.bookmark_create, services.bookmark_delete, "Bookmark"
)
PostPinApi = _toggle_api("PostPinApi", services.post_pin, services.post_unpin, "Pin to profile")


class BookmarkListApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.bookmarks_feed(user=request.user)  # type: ignore[arg-type]

    @extend_schema(responses={200: s.PostOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


# --- Feeds ----------------------------------------------------------------------------------------


class HomeFeedApi(_ListApi):
    """Your home timeline, newest first: your posts, and the posts and reposts of people you
    follow. Items you may no longer see are left out, so a page can hold fewer than
    `page_size` items: follow `next` until it is null. `previous` leads to newer items."""

    # The hot path: one prepared statement whose rows are the page's items as JSON (see
    # social/README.md). The paginator only parses page_size and describes the schema.
    required_scopes = POSTS

    @extend_schema(responses={200: s.TimelineItemOutputSerializer(many=True)}, summary="Home timeline")
    def get(self, request: Request, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        page = selectors.home_feed_page(
            user=request.user,  # type: ignore[arg-type]
            cursor=KeysetCursor.parse(request.query_params.get("cursor")),
            size=self.paginator.get_page_size(request) or DefaultCursorPagination.page_size,  # type: ignore[union-attr]
        )
        return raw_page_response(request, items_json=page.items_json, next=page.next, previous=page.previous)


class ExploreFeedApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.explore_feed(viewer=request.user)

    @extend_schema(responses={200: s.PostOutputSerializer(many=True)}, summary="Public posts")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class UserPostsApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.profile_feed(viewer=request.user, owner=_user(request, kwargs["handle"]))

    @extend_schema(
        responses={200: s.PostOutputSerializer(many=True), **_errors(404)}, summary="A user's posts"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class TagPostsApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.hashtag_feed(viewer=request.user, tag=kwargs["tag"])

    @extend_schema(responses={200: s.PostOutputSerializer(many=True)}, summary="Posts with a hashtag")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


# --- Relationships ------------------------------------------------------------------------------


class UserFollowApi(GenericAPIView):
    required_scopes = FOLLOWS
    serializer_class = s.FollowResultOutputSerializer

    @extend_schema(
        request=None,
        responses={200: s.FollowResultOutputSerializer, **_errors(400, 404, 429)},
        summary="Follow (or request to follow a private account)",
    )
    def post(self, request: Request, handle: str) -> Response:
        result = services.follow_create(follower=request.user, followee=_user(request, handle))  # type: ignore[arg-type]
        return Response({"status": result.status})

    @extend_schema(
        request=None, responses={204: None, **_errors(404)}, summary="Unfollow or withdraw a request"
    )
    def delete(self, request: Request, handle: str) -> Response:
        services.follow_delete(follower=request.user, followee=_user(request, handle))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRelationshipApi(GenericAPIView):
    required_scopes = FOLLOWS
    serializer_class = s.RelationshipOutputSerializer

    @extend_schema(responses={200: s.RelationshipOutputSerializer, **_errors(404)})
    def get(self, request: Request, handle: str) -> Response:
        return Response(selectors.relationship_for(viewer=request.user, other=_user(request, handle)))


class FollowersListApi(_ListApi):
    required_scopes = FOLLOWS
    transform = staticmethod(_user_out)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.followers_list(viewer=request.user, owner=_user(request, kwargs["handle"]))

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True), **_errors(404)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class FollowingListApi(FollowersListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.following_list(viewer=request.user, owner=_user(request, kwargs["handle"]))


class FollowerRemoveApi(GenericAPIView):
    required_scopes = FOLLOWS

    @extend_schema(
        request=None, responses={204: None, **_errors(404)}, summary="Remove someone from your followers"
    )
    def delete(self, request: Request, handle: str) -> Response:
        services.follower_remove(owner=request.user, follower=_user(request, handle))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowRequestListApi(_ListApi):
    required_scopes = FOLLOWS
    transform = staticmethod(_user_out)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.follow_requests_list(user=request.user)  # type: ignore[arg-type]

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True)}, summary="Requests to follow you")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class FollowRequestAcceptApi(GenericAPIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **_errors(404)})
    def post(self, request: Request, handle: str) -> Response:
        services.follow_request_accept(owner=request.user, requester=_user(request, handle))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowRequestRejectApi(GenericAPIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **_errors(404)})
    def post(self, request: Request, handle: str) -> Response:
        services.follow_request_reject(owner=request.user, requester=_user(request, handle))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserBlockApi(GenericAPIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **_errors(400, 404)}, summary="Block")
    def post(self, request: Request, handle: str) -> Response:
        blocked = User.objects.filter(handle__iexact=handle, is_active=True).first()
        if blocked is None:
            raise NotFoundError("No such user.")
        services.block_create(blocker=request.user, blocked=blocked)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, **_errors(404)}, summary="Unblock")
    def delete(self, request: Request, handle: str) -> Response:
        blocked = User.objects.filter(handle__iexact=handle).first()
        if blocked is not None:
            services.block_delete(blocker=request.user, blocked=blocked)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMuteApi(GenericAPIView):
    required_scopes = FOLLOWS

    @extend_schema(request=s.MuteInputSerializer, responses={204: None, **_errors(400, 404)}, summary="Mute")
    def post(self, request: Request, handle: str) -> Response:
        data = s.MuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        minutes = data.validated_data.get("duration_minutes")
        services.mute_create(
            muter=request.user,  # type: ignore[arg-type]
            muted=_user(request, handle),
            duration=timedelta(minutes=minutes) if minutes else None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, **_errors(404)}, summary="Unmute")
    def delete(self, request: Request, handle: str) -> Response:
        services.mute_delete(muter=request.user, muted=_user(request, handle))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockListApi(_ListApi):
    required_scopes = FOLLOWS
    transform = staticmethod(_user_out)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.blocks_list(user=request.user)  # type: ignore[arg-type]

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class MuteListApi(BlockListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.mutes_list(user=request.user)  # type: ignore[arg-type]

    @extend_schema(responses={200: s.MuteRowOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


# --- Notifications ------------------------------------------------------------------------------


class NotificationListApi(_ListApi):
    required_scopes = NOTIFICATIONS
    transform = staticmethod(selectors.notification_dicts)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.notifications_list(user=request.user)  # type: ignore[arg-type]

    @extend_schema(responses={200: s.NotificationOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class NotificationUnreadCountApi(GenericAPIView):
    required_scopes = NOTIFICATIONS
    serializer_class = s.UnreadCountOutputSerializer

    @extend_schema(responses={200: s.UnreadCountOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.notifications_unread_count(user=request.user)})  # type: ignore[arg-type]


class NotificationGroupsApi(GenericAPIView):
    """Unread notifications grouped by kind and post ("3 people liked your post"), newest first."""

    required_scopes = NOTIFICATIONS
    serializer_class = s.NotificationGroupOutputSerializer

    @extend_schema(responses={200: s.NotificationGroupOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(selectors.notification_groups(user=request.user))  # type: ignore[arg-type]


class NotificationMarkReadApi(GenericAPIView):
    required_scopes = NOTIFICATIONS

    @extend_schema(request=None, responses={204: None, **_errors(404)})
    def post(self, request: Request, notification_id: int) -> Response:
        services.notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationMarkAllReadApi(GenericAPIView):
    required_scopes = NOTIFICATIONS
    serializer_class = s.MarkedReadOutputSerializer

    @extend_schema(request=None, responses={200: s.MarkedReadOutputSerializer})
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_all_read(user=request.user)})  # type: ignore[arg-type]


# --- Search -----------------------------------------------------------------------------------------

_Q = OpenApiParameter(
    "q", OpenApiTypes.STR, required=True, description="What to look for (1-200 characters)."
)


def _query(request: Request) -> str:
    data = s.SearchInputSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return str(data.validated_data["q"])


class SearchPostsApi(_ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.search_posts(viewer=request.user, query=_query(request))

    @extend_schema(parameters=[_Q], responses={200: s.PostOutputSerializer(many=True), **_errors(400)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


def _user_search_out(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "handle": r["handle"],
            "display_name": r["display_name"] or r["handle"],
            "avatar_url": selectors.avatar_url(r["avatar"]),
        }
        for r in rows
    ]


class SearchUsersApi(_ListApi):
    required_scopes = POSTS
    pagination_class = HandlePagination
    transform = staticmethod(_user_search_out)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.search_users(viewer=request.user, query=_query(request))

    @extend_schema(parameters=[_Q], responses={200: s.UserSearchOutputSerializer(many=True), **_errors(400)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


def _tag_out(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": r["name"], "url": f"/tags/{r['name']}/"} for r in rows]


class SearchHashtagsApi(_ListApi):
    required_scopes = POSTS
    pagination_class = NamePagination
    transform = staticmethod(_tag_out)  # type: ignore[assignment]

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.search_hashtags(query=_query(request))

    @extend_schema(parameters=[_Q], responses={200: s.HashtagOutputSerializer(many=True), **_errors(400)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


# --- Reports -----------------------------------------------------------------------------------------


class ReportCreateApi(GenericAPIView):
    required_scopes = RequiredScopes(read=None, write="posts:write")
    serializer_class = s.ReportInputSerializer

    @extend_schema(
        request=s.ReportInputSerializer, responses={201: s.ReportOutputSerializer, **_errors(400, 404)}
    )
    def post(self, request: Request) -> Response:
        data = s.ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        target = _user(request, v["handle"]) if v.get("handle") and not v.get("post_id") else None
        report = services.report_create(
            reporter=request.user,  # type: ignore[arg-type]
            reason=v["reason"],
            comment=v["comment"],
            post_id=v.get("post_id"),
            target_user=target,
        )
        return Response(
            {
                "id": report.pk,
                "reason": report.reason,
                "status": report.status,
                "created_at": report.created_at,
            },
            status=status.HTTP_201_CREATED,
        )
