"""Follows, follow requests, blocks and mutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from social import presenters, selectors, services
from social.api import serializers as s
from social.api.views._base import FOLLOWS, ListApi, Rows, errors, user_from_path, viewer


class UserFollowApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(
        request=None,
        responses={200: s.FollowResultOutputSerializer, **errors(400, 404, 429)},
        summary="Follow (or request to follow a private account)",
    )
    def post(self, request: Request, handle: str) -> Response:
        result = services.follow_create(
            follower=request_user(request), followee=user_from_path(request, handle)
        )
        return Response({"status": result.status})

    @extend_schema(
        request=None, responses={204: None, **errors(404)}, summary="Unfollow or withdraw a request"
    )
    def delete(self, request: Request, handle: str) -> Response:
        services.follow_delete(follower=request_user(request), followee=user_from_path(request, handle))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRelationshipApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(responses={200: s.RelationshipOutputSerializer, **errors(404)})
    def get(self, request: Request, handle: str) -> Response:
        return Response(
            selectors.relationship_get(viewer=viewer(request), other=user_from_path(request, handle))
        )


class _UserRowListApi(ListApi):
    required_scopes = FOLLOWS

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.user_rows_present(rows)


class FollowerListApi(_UserRowListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.follower_list(
            viewer=viewer(request), owner=user_from_path(request, kwargs["handle"])
        )

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True), **errors(404)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class FollowingListApi(_UserRowListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.following_list(
            viewer=viewer(request), owner=user_from_path(request, kwargs["handle"])
        )

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True), **errors(404)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class FollowerRemoveApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(
        request=None, responses={204: None, **errors(404)}, summary="Remove someone from your followers"
    )
    def delete(self, request: Request, handle: str) -> Response:
        services.follower_remove(owner=request_user(request), follower=user_from_path(request, handle))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowRequestListApi(_UserRowListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.follow_request_list(user=request_user(request))

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True)}, summary="Requests to follow you")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class FollowRequestAcceptApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **errors(404)})
    def post(self, request: Request, handle: str) -> Response:
        services.follow_request_accept(owner=request_user(request), requester=user_from_path(request, handle))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FollowRequestRejectApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **errors(404)})
    def post(self, request: Request, handle: str) -> Response:
        services.follow_request_reject(owner=request_user(request), requester=user_from_path(request, handle))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserBlockApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(request=None, responses={204: None, **errors(400, 404)}, summary="Block")
    def post(self, request: Request, handle: str) -> Response:
        services.block_create(
            blocker=request_user(request), blocked=selectors.user_get_by_handle(handle=handle)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, **errors(404)}, summary="Unblock")
    def delete(self, request: Request, handle: str) -> Response:
        services.block_delete(
            blocker=request_user(request),
            blocked=selectors.user_get_by_handle(handle=handle, include_inactive=True),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMuteApi(APIView):
    required_scopes = FOLLOWS

    @extend_schema(request=s.MuteInputSerializer, responses={204: None, **errors(400, 404)}, summary="Mute")
    def post(self, request: Request, handle: str) -> Response:
        data = s.MuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        minutes = data.validated_data.get("duration_minutes")
        services.mute_create(
            muter=request_user(request),
            muted=user_from_path(request, handle),
            duration=timedelta(minutes=minutes) if minutes else None,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None, **errors(404)}, summary="Unmute")
    def delete(self, request: Request, handle: str) -> Response:
        services.mute_delete(muter=request_user(request), muted=selectors.user_get_by_handle(handle=handle))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockListApi(_UserRowListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.block_list(user=request_user(request))

    @extend_schema(responses={200: s.UserRowOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class MuteListApi(_UserRowListApi):
    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.mute_list(user=request_user(request))

    @extend_schema(responses={200: s.MuteRowOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)
