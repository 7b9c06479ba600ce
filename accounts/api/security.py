"""API for the security log: ``GET /api/v1/security-events/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.auth import request_user
from accounts.models import SecurityEvent
from accounts.selectors.security import security_event_list
from config.scopes import RequiredScopes


class SecurityEventOutputSerializer(serializers.ModelSerializer[SecurityEvent]):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = SecurityEvent
        fields = ("id", "kind", "kind_display", "ip_address", "user_agent", "detail", "created_at")
        read_only_fields = fields


class SecurityEventListApi(ListAPIView[SecurityEvent]):
    """The signed-in user's security log, newest first (cursor-paginated)."""

    # Sessions only, like the data export (accounts.api.views.MeExportApi): sign-in IPs, user
    # agents and key events are for the person, not for a script holding `profile:read`.
    required_scopes = RequiredScopes(read=None, write=None)
    serializer_class = SecurityEventOutputSerializer

    def get_queryset(self) -> QuerySet[SecurityEvent]:
        return security_event_list(user=request_user(self.request))

    @extend_schema(
        operation_id="security_events_list",
        summary="List my security events",
        description=(
            "Sign-ins (with IP and user agent), failed sign-ins, password, e-mail and two-factor "
            "changes, ended sessions and API key events, newest first. Signed-in sessions "
            "only: API keys are refused whatever their scopes."
        ),
        tags=["accounts"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
