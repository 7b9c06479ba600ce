"""What every social API view shares: scopes, documented error answers, cursor pagination and
the list base class."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import Cursor
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.auth import request_user_or_none
from accounts.models import User
from config.api import DefaultCursorPagination
from config.scopes import RequiredScopes
from social import selectors
from social.selectors import Viewer

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


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in codes}


class SocialCursorPagination(DefaultCursorPagination):
    """DRF's cursor paginator, refusing a cursor whose position no row can have (a NUL byte,
    which PostgreSQL cannot even compare) as it refuses any other tampered cursor."""

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is not None and isinstance(cursor.position, str) and "\x00" in cursor.position:
            raise NotFound(self.invalid_cursor_message)
        return cursor


class HandlePagination(SocialCursorPagination):
    ordering = "handle"


class NamePagination(SocialCursorPagination):
    ordering = "name"


class LatestPagination(SocialCursorPagination):
    ordering = "-latest"


Rows = Iterable[Mapping[str, Any]]


class ListApi(GenericAPIView):
    """A GET list: paginate the queryset of ``rows()`` and answer ``present(page)``.

    Subclasses say which rows (a selector call) and which presenter builds the items.
    """

    pagination_class = SocialCursorPagination

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        """The page's items (posts, unless a subclass says otherwise)."""
        return selectors.post_list_from_rows(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def get(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.rows(request, **kwargs))
        assert page is not None  # noqa: S101 - pagination_class is always set
        return self.get_paginated_response(self.present(page))


def viewer(request: Request) -> Viewer:
    """The signed-in user, or None for an anonymous visitor (public reads)."""
    return request_user_or_none(request)


def user_from_path(request: Request, handle: str) -> User:
    """The user a path names, unless a block stands between them and the viewer (404)."""
    return selectors.user_get_visible(viewer=viewer(request), handle=handle)
