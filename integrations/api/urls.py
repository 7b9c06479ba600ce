from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from integrations.api.views import ApiKeyRevokeApi, ApiKeyRotateApi, ApiKeyViewSet

app_name = "integrations_api"

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns: list[URLPattern | URLResolver] = [
    path("api-keys/<str:public_id>/rotate/", ApiKeyRotateApi.as_view(), name="api-key-rotate"),
    path("api-keys/<str:public_id>/revoke/", ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
    *router.urls,
]
