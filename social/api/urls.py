from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "social_api"
urlpatterns: list[URLPattern | URLResolver] = []
