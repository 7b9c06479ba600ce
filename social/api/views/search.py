"""Search: posts, people, hashtags; each a cursor-paginated list of what the viewer may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from social import presenters, selectors
from social.api import serializers as s
from social.api.views._base import POSTS, HandlePagination, ListApi, NamePagination, Rows, errors, viewer

# The query parameters are documented from the serializer that parses them, so the schema says
# what it checks (the length, and more than whitespace: config.api.schema).
_Q = s.SearchInputSerializer


def _query(request: Request) -> str:
    data = s.SearchInputSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return str(data.validated_data["q"])


class PostSearchApi(ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_list_search(viewer=viewer(request), query=_query(request))

    @extend_schema(parameters=[_Q], responses={200: s.PostOutputSerializer(many=True), **errors(400, 404)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class UserSearchApi(ListApi):
    required_scopes = POSTS
    pagination_class = HandlePagination

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.user_search_rows_present(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.user_list_search(viewer=viewer(request), query=_query(request))

    @extend_schema(
        parameters=[_Q], responses={200: s.UserSearchOutputSerializer(many=True), **errors(400, 404)}
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class HashtagSearchApi(ListApi):
    required_scopes = POSTS
    pagination_class = NamePagination

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.hashtag_rows_present(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.hashtag_list_search(viewer=viewer(request), query=_query(request))

    @extend_schema(parameters=[_Q], responses={200: s.HashtagOutputSerializer(many=True), **errors(400, 404)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)
