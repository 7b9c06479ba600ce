"""The project's URLs plus two trivial JSON endpoints to compare the feed with.

- ``/bench/ping``: a bare ``JsonResponse`` through the same middleware;
- ``/bench/api-ping``: the same through DRF with the API's own authentication, permission,
  scope and throttle classes (what every API request pays before its view runs).
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.scopes import RequiredScopes
from config.urls import urlpatterns as project_urlpatterns


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class PingApi(APIView):
    required_scopes = RequiredScopes(read="posts:read", write="posts:write")

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("bench/ping", ping), path("bench/api-ping", PingApi.as_view()), *project_urlpatterns]
