"""Posts and replies, and what a reader does to them (like, repost, bookmark, pin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from config.api.parsers import MultiPartParser
from config.faults import read_after_commit
from social import presenters, selectors, services
from social.api import serializers as s
from social.api.views._base import POSTS, ListApi, Rows, errors, viewer


def _post_answer(request: Request, post_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    # After a write has committed: a dropped connection here is read again, not a 503 (config.faults).
    shown = read_after_commit(lambda: selectors.post_get_shown(viewer=viewer(request), post_id=post_id))
    return Response(shown, status=code)


class PostCreateApi(APIView):
    required_scopes = POSTS
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={
            "application/json": s.PostCreateInputSerializer,
            "multipart/form-data": s.PostCreateInputSerializer,
        },
        responses={201: s.PostOutputSerializer, **errors(400, 403, 404, 429)},
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
            author=request_user(request),
            text=v["text"],
            visibility=v.get("visibility"),
            content_warning=v["content_warning"],
            reply_to_id=v.get("reply_to_id"),
            images=images,
        )
        return _post_answer(request, post.pk, code=status.HTTP_201_CREATED)


class PostDetailApi(APIView):
    """One post: read it, edit it, delete it."""

    required_scopes = POSTS

    @extend_schema(responses={200: s.PostOutputSerializer, **errors(404)})
    def get(self, request: Request, post_id: int) -> Response:
        return _post_answer(request, post_id)

    @extend_schema(
        request=s.PostEditInputSerializer, responses={200: s.PostOutputSerializer, **errors(400, 403, 404)}
    )
    def patch(self, request: Request, post_id: int) -> Response:
        data = s.PostEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.post_edit(
            user=request_user(request),
            post_id=post_id,
            text=data.validated_data.get("text"),
            content_warning=data.validated_data.get("content_warning"),
        )
        return _post_answer(request, post_id)

    @extend_schema(request=None, responses={204: None, **errors(403, 404)})
    def delete(self, request: Request, post_id: int) -> Response:
        services.post_delete(user=request_user(request), post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostEditListApi(ListApi):
    required_scopes = POSTS

    def present(self, rows: Rows) -> list[dict[str, Any]]:
        return presenters.post_edit_rows_present(rows)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_edit_list(viewer=viewer(request), post_id=kwargs["post_id"])

    @extend_schema(
        responses={200: s.PostEditOutputSerializer(many=True), **errors(404)}, summary="Earlier versions"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)


class PostReplyListApi(ListApi):
    """Direct replies to a post (GET), and answering it (POST)."""

    required_scopes = POSTS
    # Describes the POST body (DRF's OPTIONS metadata and the schema read it).
    serializer_class = s.ReplyCreateInputSerializer

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        post = selectors.post_get_for_user(user=viewer(request), post_id=kwargs["post_id"])
        return selectors.post_list_replies(viewer=viewer(request), post=post)

    @extend_schema(
        responses={200: s.PostOutputSerializer(many=True), **errors(404)}, summary="Direct replies"
    )
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    @extend_schema(
        request=s.ReplyCreateInputSerializer,
        responses={201: s.PostOutputSerializer, **errors(400, 403, 404, 429)},
        summary="Reply (visibility defaults to the post's; never wider)",
    )
    def post(self, request: Request, post_id: int) -> Response:
        data = s.ReplyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        reply = services.post_create(
            author=request_user(request),
            reply_to_id=post_id,
            text=v["text"],
            visibility=v.get("visibility"),
            content_warning=v["content_warning"],
        )
        return _post_answer(request, reply.pk, code=status.HTTP_201_CREATED)


Action = Callable[..., Any]


def toggle_api(name: str, *, on: Action, off: Action, summary: str) -> type[APIView]:
    """An endpoint whose POST does something to a post and DELETE undoes it (``on``/``off``,
    services taking ``user`` and ``post_id``); both idempotent and answer with the post."""

    class ToggleApi(APIView):
        required_scopes = POSTS

        @extend_schema(
            request=None, responses={200: s.PostOutputSerializer, **errors(400, 403, 404)}, summary=summary
        )
        def post(self, request: Request, post_id: int) -> Response:
            on(user=request_user(request), post_id=post_id)
            return _post_answer(request, post_id)

        @extend_schema(
            request=None, responses={200: s.PostOutputSerializer, **errors(404)}, summary=f"Undo: {summary}"
        )
        def delete(self, request: Request, post_id: int) -> Response:
            off(user=request_user(request), post_id=post_id)
            return _post_answer(request, post_id)

    ToggleApi.__name__ = ToggleApi.__qualname__ = name
    return ToggleApi


PostLikeApi = toggle_api("PostLikeApi", on=services.like_create, off=services.like_delete, summary="Like")
PostRepostApi = toggle_api(
    "PostRepostApi", on=services.repost_create, off=services.repost_delete, summary="Repost"
)
PostBookmarkApi = toggle_api(
    "PostBookmarkApi", on=services.bookmark_create, off=services.bookmark_delete, summary="Bookmark"
)
PostPinApi = toggle_api("PostPinApi", on=services.post_pin, off=services.post_unpin, summary="Pin to profile")


class BookmarkListApi(ListApi):
    required_scopes = POSTS

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        return selectors.post_list_bookmarked(user=request_user(request))

    @extend_schema(responses={200: s.PostOutputSerializer(many=True)})
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)
