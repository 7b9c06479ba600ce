"""The API-keys endpoints, one view per operation. Keys are managed with a session only: no key
can call these. Creating and rotating a key also need a recent re-authentication."""

from __future__ import annotations

from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from config.api import api_error
from config.errors import PermissionDeniedError
from config.scopes import RequiredScopes
from integrations.api.serializers import (
    ApiKeyCreateInputSerializer,
    ApiKeyIssuedOutputSerializer,
    ApiKeyOutputSerializer,
    ApiKeyRotateInputSerializer,
)
from integrations.models import ApiKey
from integrations.selectors import api_key_get_for_user, api_key_list_for_user
from integrations.services import IssuedKey, api_key_issue, api_key_revoke, api_key_rotate

# Keys cannot manage keys: a stolen key must not be able to mint more or outlive a revocation.
SESSION_ONLY = RequiredScopes(read=None, write=None)
TAGS = ["API keys"]
NO_STORE = {"Cache-Control": "no-store"}  # responses that carry a full key
REAUTH_DESCRIPTION = (
    "No re-authentication in the last few minutes (`reauthentication_required`): confirm the "
    "password with allauth headless `POST /_allauth/browser/v1/auth/reauthenticate`, then retry."
)
NOT_FOUND = api_error("No key with this id among yours (`not_found`).")


def _require_recent_reauthentication(request: Request) -> None:
    """A stolen session must not be able to mint a long-lived key: minting one needs the password
    (or another allauth re-authentication method) within ``ACCOUNT_REAUTHENTICATION_TIMEOUT``."""
    if not did_recently_reauthenticate(request._request):
        raise PermissionDeniedError(
            "Confirm your password before creating or rotating an API key.",
            code="reauthentication_required",
        )


def _issued_response(issued: IssuedKey) -> Response:
    out = ApiKeyIssuedOutputSerializer(issued.api_key, context={"token": issued.token})
    return Response(out.data, status=status.HTTP_201_CREATED, headers=NO_STORE)


class ApiKeyListCreateApi(ListAPIView[ApiKey]):
    """``/api-keys/``: your keys (GET) and a new key (POST)."""

    required_scopes = SESSION_ONLY
    serializer_class = ApiKeyOutputSerializer

    def get_queryset(self) -> QuerySet[ApiKey]:
        return api_key_list_for_user(user=request_user(self.request))

    @extend_schema(operation_id="api_keys_list", tags=TAGS, summary="List your API keys")
    def get(self, request: Request) -> Response:
        return self.list(request)

    @extend_schema(
        operation_id="api_keys_create",
        tags=TAGS,
        summary="Create an API key",
        description="The full key is in this response only. Needs a recent re-authentication; "
        "the owner gets an e-mail. Keys read `"
        f"{settings.API_KEY_PREFIX}_{settings.API_KEY_ENVIRONMENT}_…` on this server.",
        request=ApiKeyCreateInputSerializer,
        responses={
            201: ApiKeyIssuedOutputSerializer,
            400: api_error("Invalid name, scopes or expiry (`invalid`, with `fields`)."),
            403: api_error(f"{REAUTH_DESCRIPTION} Or an API key (`scope_not_allowed`)."),
            409: api_error("The plan's number of active keys is reached (`api_key_limit_reached`)."),
        },
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        data = ApiKeyCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _require_recent_reauthentication(request)
        return _issued_response(api_key_issue(user=user, request=request._request, **data.validated_data))


class ApiKeyDetailApi(APIView):
    required_scopes = SESSION_ONLY

    @extend_schema(
        operation_id="api_keys_retrieve",
        tags=TAGS,
        summary="One of your API keys",
        responses={200: ApiKeyOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, public_id: str) -> Response:
        api_key = api_key_get_for_user(user=request_user(request), public_id=public_id)
        return Response(ApiKeyOutputSerializer(api_key).data)


class ApiKeyRotateApi(APIView):
    required_scopes = SESSION_ONLY

    @extend_schema(
        tags=TAGS,
        summary="Rotate an API key",
        description="Issues a new key with the same name and scopes; the old one keeps working "
        "for `grace_hours` (0 to 24), then stops. Needs a recent re-authentication; the owner "
        "gets an e-mail.",
        request=ApiKeyRotateInputSerializer,
        responses={
            201: ApiKeyIssuedOutputSerializer,
            400: api_error("`grace_hours` is not 0 to 24 (`invalid`, with `fields`)."),
            403: api_error(f"{REAUTH_DESCRIPTION} Or an API key (`scope_not_allowed`)."),
            404: NOT_FOUND,
            409: api_error("The key is not active: revoked, expired or already rotating (`conflict`)."),
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        api_key = api_key_get_for_user(user=request_user(request), public_id=public_id)
        data = ApiKeyRotateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _require_recent_reauthentication(request)
        return _issued_response(
            api_key_rotate(api_key=api_key, request=request._request, **data.validated_data)
        )


class ApiKeyRevokeApi(APIView):
    """The one way to revoke a key. A POST, not a DELETE: the key stays listed as revoked."""

    required_scopes = SESSION_ONLY

    @extend_schema(
        tags=TAGS,
        summary="Revoke an API key",
        description="Stops the key at once, also during a rotation's grace period. Idempotent.",
        request=None,
        responses={200: ApiKeyOutputSerializer, 404: NOT_FOUND},
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = request_user(request)
        api_key = api_key_get_for_user(user=user, public_id=public_id)
        revoked = api_key_revoke(api_key=api_key, actor=user, request=request._request)
        return Response(ApiKeyOutputSerializer(revoked).data)
