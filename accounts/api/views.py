"""API for profiles and the own account: ``/api/v1/me/``, ``/api/v1/me/export/``, ``/api/v1/users/<handle>/``."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    AccountDeleteInputSerializer,
    MeSerializer,
    MeUpdateInputSerializer,
    ProfileSerializer,
)
from accounts.auth import request_user, request_user_or_none
from accounts.http import end_current_session, export_response
from accounts.models import User
from accounts.selectors import user_get_for_viewer, user_get_me
from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from config.api import api_error
from config.api.parsers import MultiPartParser
from config.api.permissions import HasRequiredScopes
from config.errors import PermissionDeniedError, RateLimitedError
from config.scopes import RequiredScopes


class MeDetailApi(APIView):
    """The signed-in user's own profile and settings."""

    # Deleting the account is for the person, never for a key.
    required_scopes = RequiredScopes(read="profile:read", write="profile:write", methods={"DELETE": None})
    parser_classes = [JSONParser, MultiPartParser]

    def _me(self, request: Request) -> Response:
        user = user_get_me(user_id=request_user(request).pk)
        return Response(MeSerializer(user, context={"request": request}).data)

    @extend_schema(
        operation_id="me_retrieve",
        summary="Your profile",
        description="Scope: `profile:read`.",
        responses={200: MeSerializer, 401: api_error("Not signed in."), 403: api_error("Missing scope.")},
    )
    def get(self, request: Request) -> Response:
        return self._me(request)

    @extend_schema(
        operation_id="me_partial_update",
        summary="Change your profile",
        description=(
            "Scope: `profile:write`. Send only the fields to change. JSON, or multipart/form-data "
            "to upload an avatar (stored at 400x400 and 96x96, metadata stripped). The notification "
            "settings (`notification_preferences`, `email_notifications`, "
            "`notification_email_preferences`) follow the settings page's rules."
        ),
        request={
            "application/json": MeUpdateInputSerializer,
            "multipart/form-data": MeUpdateInputSerializer,
        },
        responses={
            200: MeSerializer,
            400: api_error(
                "Invalid input or image (code `invalid` or `invalid_image`), or e-mails asked for a "
                "notification kind that is switched off (code `email_without_notification`, "
                "`fields.notification_email_preferences`)."
            ),
            401: api_error("Not signed in."),
            403: api_error("Missing scope."),
        },
    )
    def patch(self, request: Request) -> Response:
        serializer = MeUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile_update(user=request_user(request), **serializer.validated_data)
        return self._me(request)

    @extend_schema(
        operation_id="me_destroy",
        summary="Delete your account",
        description=(
            "Deletes the account and all its data in every app, for good. Needs the current "
            "`password`, unless the session re-authenticated in the last few minutes "
            "(allauth headless `/_allauth/browser/v1/auth/reauthenticate`). API keys cannot do this."
        ),
        request=AccountDeleteInputSerializer,
        responses={
            204: OpenApiResponse(description="The account is deleted and the session ended."),
            400: api_error("Invalid input."),
            401: api_error("Not signed in."),
            403: api_error(
                "Wrong password, no recent re-authentication, or an API key (`reauthentication_required`)."
            ),
        },
    )
    def delete(self, request: Request) -> Response:
        serializer = AccountDeleteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request_user(request)
        _require_reauthentication(
            request, user=user, password=serializer.validated_data.get("password") or ""
        )
        account_delete(user=user)
        end_current_session(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _require_reauthentication(request: Request, *, user: User, password: str) -> None:
    """Passes when ``password`` is the user's, or when the session re-authenticated recently.

    Wrong passwords count against allauth's failed-login rate limit, like the login form.
    """
    if not password:
        if did_recently_reauthenticate(request._request):
            return
        raise PermissionDeniedError(
            "Confirm your password to delete your account.", code="reauthentication_required"
        )
    try:
        ok = get_adapter(request._request).reauthenticate(user, password)
    except DjangoValidationError as exc:  # allauth's "too many login attempts"
        raise RateLimitedError("Too many attempts. Try again in a few minutes.", retry_after=300) from exc
    if not ok:
        raise PermissionDeniedError(
            "The password is not correct.",
            code="reauthentication_required",
            fields={"password": ["The password is not correct."]},
        )


class MeExportApi(APIView):
    """A JSON download of everything the signed-in user owns."""

    # Sessions only: an export holds the security log and every app's data, which no API key
    # scope covers.
    required_scopes = RequiredScopes(read=None, write=None)

    @extend_schema(
        operation_id="me_export",
        summary="Export your data",
        description=(
            "Everything you own, as one JSON file (Content-Disposition: attachment): an "
            "`accounts` section plus one section per app. Signed-in sessions only; API keys are refused."
        ),
        responses={
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT, description="The export."
            ),
            401: api_error("Not signed in."),
            403: api_error("API keys cannot export data."),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        return export_response(user=request_user(request), request=request._request)


class UserDetailApi(APIView):
    """Anyone's public profile card, by handle (in any case)."""

    required_scopes = RequiredScopes(read="profile:read")
    permission_classes = [AllowAny, HasRequiredScopes]

    @extend_schema(
        operation_id="users_retrieve",
        summary="A user's public profile",
        description=(
            "No sign-in needed (scope `profile:read` for API keys). Private accounts show their "
            "card too; their posts are another matter. A user who blocks you, or whom you "
            "block, answers 404 like an unknown handle."
        ),
        responses={200: ProfileSerializer, 403: api_error("Missing scope."), 404: api_error("No such user.")},
    )
    def get(self, request: Request, handle: str) -> Response:
        user = user_get_for_viewer(viewer=request_user_or_none(request), handle=handle)
        return Response(ProfileSerializer(user, context={"request": request}).data)
