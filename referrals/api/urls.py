from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "referrals_api"
urlpatterns: list[URLPattern | URLResolver] = []
