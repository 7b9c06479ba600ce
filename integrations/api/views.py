"""The API-keys endpoints. Keys are managed with a session only: no key can call these."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from config.scopes import RequiredScopes
from integrations.api.serializers import (
    ApiKeyCreateInputSerializer,
    ApiKeyIssuedOutputSerializer,
    ApiKeyOutputSerializer,
    ApiKeyRotateInputSerializer,
)
from integrations.models import ApiKey
from integrations.selectors import api_key_get_for_user, api_key_list_for_user
from integrations.services import api_key_issue, api_key_revoke, api_key_rotate

# Keys cannot manage keys: a stolen key must not be able to mint more or outlive a revocation.
SESSION_ONLY = RequiredScopes(read=None, write=None)
TAGS = ["API keys"]
NO_STORE = {"Cache-Control": "no-store"}  # responses that carry a full key


@extend_schema_view(
    list=extend_schema(tags=TAGS, summary="List your API keys"),
    retrieve=extend_schema(tags=TAGS, summary="One of your API keys"),
    create=extend_schema(
        tags=TAGS,
        summary="Create an API key",
        request=ApiKeyCreateInputSerializer,
        responses={201: ApiKeyIssuedOutputSerializer},
    ),
    destroy=extend_schema(tags=TAGS, summary="Revoke an API key", responses={204: None}),
)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet[ApiKey],
):
    required_scopes = SESSION_ONLY
    serializer_class = ApiKeyOutputSerializer
    lookup_field = "public_id"
    lookup_value_regex = r"[0-9A-Za-z]{1,16}"

    def get_queryset(self) -> QuerySet[ApiKey]:
        return api_key_list_for_user(user=self.request.user)  # type: ignore[arg-type]

    def get_object(self) -> ApiKey:
        return api_key_get_for_user(user=self.request.user, public_id=self.kwargs["public_id"])  # type: ignore[arg-type]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ApiKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_issue(user=request.user, request=request._request, **data.validated_data)  # type: ignore[arg-type]
        out = ApiKeyIssuedOutputSerializer(issued.api_key, context={"token": issued.token})
        return Response(out.data, status=status.HTTP_201_CREATED, headers=NO_STORE)

    def perform_destroy(self, instance: ApiKey) -> None:
        api_key_revoke(api_key=instance, actor=self.request.user, request=self.request._request)  # type: ignore[arg-type]

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return ApiKeyOutputSerializer


class ApiKeyRotateApi(APIView):
    required_scopes = SESSION_ONLY

    @extend_schema(
        tags=TAGS,
        summary="Rotate an API key",
        description="Issues a new key with the same name and scopes; the old one keeps working "
        "for `grace_hours` (0 to 24), then stops.",
        request=ApiKeyRotateInputSerializer,
        responses={201: ApiKeyIssuedOutputSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        api_key = api_key_get_for_user(user=request.user, public_id=public_id)  # type: ignore[arg-type]
        data = ApiKeyRotateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = api_key_rotate(api_key=api_key, request=request._request, **data.validated_data)
        out = ApiKeyIssuedOutputSerializer(issued.api_key, context={"token": issued.token})
        return Response(out.data, status=status.HTTP_201_CREATED, headers=NO_STORE)


class ApiKeyRevokeApi(APIView):
    required_scopes = SESSION_ONLY

    @extend_schema(
        tags=TAGS,
        summary="Revoke an API key",
        description="Stops the key at once, also during a rotation's grace period. Idempotent.",
        request=None,
        responses={200: ApiKeyOutputSerializer, 404: OpenApiResponse(description="No such key.")},
    )
    def post(self, request: Request, public_id: str) -> Response:
        api_key = api_key_get_for_user(user=request.user, public_id=public_id)  # type: ignore[arg-type]
        revoked = api_key_revoke(api_key=api_key, actor=request.user, request=request._request)  # type: ignore[arg-type]
        return Response(ApiKeyOutputSerializer(revoked).data)
