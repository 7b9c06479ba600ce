"""Notifications: the list, the unread count, unread groups, marking read."""

from __future__ import annotations

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
from social.api.views._base import NOTIFICATIONS, LatestPagination, ListApi, Rows, errors


class NotificationListApi(ListApi):
    required_scopes = NOTIFICATIONS

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.notification_rows_present(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.notification_list(user=request_user(request))

    @extend_schema(responses={200: s.NotificationOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class NotificationUnreadCountApi(APIView):
    required_scopes = NOTIFICATIONS

    @extend_schema(responses={200: s.UnreadCountOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.notification_unread_count(user=request_user(request))})


class NotificationGroupListApi(ListApi):
    """Unread notifications grouped by kind and post ("3 people liked your post"), newest
    first, a page at a time like every list."""

    required_scopes = NOTIFICATIONS
    pagination_class = LatestPagination

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.notification_group_rows_present(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.notification_group_list(user=request_user(request))

    @extend_schema(responses={200: s.NotificationGroupOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class NotificationMarkReadApi(APIView):
    required_scopes = NOTIFICATIONS

    @extend_schema(request=None, responses={204: None, **errors(404)})
    def post(self, request: Request, notification_id: int) -> Response:
        services.notification_mark_read(user=request_user(request), notification_id=notification_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationMarkAllReadApi(APIView):
    required_scopes = NOTIFICATIONS

    @extend_schema(request=None, responses={200: s.MarkedReadOutputSerializer})
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_all_read(user=request_user(request))})
