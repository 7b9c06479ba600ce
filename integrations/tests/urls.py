"""The project's URLs plus two probe endpoints that only the tests use."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.scopes import RequiredScopes
from config.urls import urlpatterns as project_urlpatterns


class ProbeApi(APIView):
    required_scopes = RequiredScopes(read="posts:read", write="posts:write")

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.handle})

    def post(self, request: Request) -> Response:
        return Response({"user": request.user.handle}, status=201)


class UndeclaredProbeApi(APIView):
    """Declares no scopes: API keys must be refused (fail closed)."""

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.handle})


class PublicProbeApi(APIView):
    """No authentication at all: the baseline the benchmark subtracts."""

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    required_scopes = RequiredScopes(read="posts:read")

    def get(self, request: Request) -> Response:
        return Response({"user": None})


class AdminProbeApi(APIView):
    required_scopes = RequiredScopes(read="admin", write="admin")

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.handle})


urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/_probe/", ProbeApi.as_view()),
    path("api/v1/_probe/undeclared/", UndeclaredProbeApi.as_view()),
    path("api/v1/_probe/admin/", AdminProbeApi.as_view()),
    path("api/v1/_probe/public/", PublicProbeApi.as_view()),
    *project_urlpatterns,
]
