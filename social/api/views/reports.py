"""Reports to the moderators."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from config.scopes import RequiredScopes
from social import services
from social.api import serializers as s
from social.api.views._base import errors, user_from_path


class ReportCreateApi(APIView):
    required_scopes = RequiredScopes(read=None, write="posts:write")

    @extend_schema(
        request=s.ReportInputSerializer, responses={201: s.ReportOutputSerializer, **errors(400, 404, 429)}
    )
    def post(self, request: Request) -> Response:
        data = s.ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        handle = v.get("handle")
        report = services.report_create(
            reporter=request_user(request),
            reason=v["reason"],
            comment=v["comment"],
            post_id=v.get("post_id"),
            target_user=user_from_path(request, handle) if handle is not None else None,
        )
        return Response(
            {
                "id": report.pk,
                "reason": report.reason,
                "status": report.status,
                "created_at": report.created_at,
            },
            status=status.HTTP_201_CREATED,
        )
