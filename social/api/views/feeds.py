"""Feeds: the home timeline (one prepared statement), explore, a user's posts, a hashtag's posts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.auth import request_user
from config.api import DefaultCursorPagination, KeysetCursor, raw_page_response
from social import selectors
from social.api import serializers as s
from social.api.views._base import POSTS, ListApi, errors, user_from_path, viewer
from social.feeds.home import home_feed_page


class HomeFeedListApi(ListApi):
    """Your home timeline, newest first: your posts, and the posts and reposts of people you
    follow. Items you may no longer see are left out, so a page can hold fewer than
    `page_size` items: follow `next` until it is null. `previous` leads to newer items."""

    # The hot path: one prepared statement whose rows are the page's items as JSON (see
    # social/README.md). The paginator only parses page_size and describes the schema.
    required_scopes = POSTS

    @extend_schema(
        responses={200: s.TimelineItemOutputSerializer(many=True), **errors(404)}, summary="Home timeline"
    )
    def get(self, request: Request, **kwargs: Any) -> HttpResponse:  # type: ignore[override]  # answers JSON PostgreSQL wrote
        page = home_feed_page(
            user=request_user(request),
            cursor=KeysetCursor.parse(request.query_params.get("cursor")),
            size=self.pagination_class().get_page_size(request) or DefaultCursorPagination.page_size,
        )
        return raw_page_response(request, items_json=page.items_json, next=page.next, previous=page.previous)


class ExploreFeedListApi(ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_list_explore(viewer=viewer(request))

    @extend_schema(responses={200: s.PostOutputSerializer(many=True)}, summary="Public posts")
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class UserPostListApi(ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_list_for_profile(
            viewer=viewer(request), owner=user_from_path(request, kwargs["handle"])
        )

    @extend_schema(
        responses={200: s.PostOutputSerializer(many=True), **errors(404)}, summary="A user's posts"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class TagPostListApi(ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_list_for_tag(viewer=viewer(request), tag=kwargs["tag"])

    @extend_schema(
        responses={200: s.PostOutputSerializer(many=True), **errors(404)}, summary="Posts with a hashtag"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)
