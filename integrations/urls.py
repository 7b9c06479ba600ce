from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

from integrations import views

app_name = "integrations"
PUBLIC_ID = r"(?P<public_id>[0-9A-Za-z]{1,16})"  # anything else is not a key: 404
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.api_keys_page, name="api-keys"),
    re_path(rf"^{PUBLIC_ID}/rotate/$", views.api_key_rotate_page, name="api-key-rotate"),
    re_path(rf"^{PUBLIC_ID}/revoke/$", views.api_key_revoke_page, name="api-key-revoke"),
]
