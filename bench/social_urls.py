"""The project's URLs plus ``/bench/ping``: a bare ``JsonResponse`` through the same middleware."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping", ping), *project_urlpatterns]
