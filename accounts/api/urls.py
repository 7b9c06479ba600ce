from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from accounts.api.security import SecurityEventListApi
from accounts.api.views import MeDetailApi, MeExportApi, UserDetailApi

app_name = "accounts_api"
urlpatterns: list[URLPattern | URLResolver] = [
    path("security-events/", SecurityEventListApi.as_view(), name="security_event_list"),
    path("me/", MeDetailApi.as_view(), name="me"),
    path("me/export/", MeExportApi.as_view(), name="me_export"),
    path("users/<str:handle>/", UserDetailApi.as_view(), name="user_detail"),
]
