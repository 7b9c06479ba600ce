from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "billing_api"
urlpatterns: list[URLPattern | URLResolver] = []
