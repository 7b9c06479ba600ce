from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from integrations.api.views import ApiKeyDetailApi, ApiKeyListCreateApi, ApiKeyRevokeApi, ApiKeyRotateApi

app_name = "integrations_api"

# The public id is base62; anything else in the path (a NUL byte, say) is not a key's URL: 404.
PUBLIC_ID = r"(?P<public_id>[0-9A-Za-z]{1,16})"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api-keys/", ApiKeyListCreateApi.as_view(), name="api-key-list"),
    re_path(rf"^api-keys/{PUBLIC_ID}/$", ApiKeyDetailApi.as_view(), name="api-key-detail"),
    re_path(rf"^api-keys/{PUBLIC_ID}/rotate/$", ApiKeyRotateApi.as_view(), name="api-key-rotate"),
    re_path(rf"^api-keys/{PUBLIC_ID}/revoke/$", ApiKeyRevokeApi.as_view(), name="api-key-revoke"),
]
