from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from integrations import views

app_name = "integrations"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.api_keys_page, name="api-keys"),
    path("<str:public_id>/rotate/", views.api_key_rotate_page, name="api-key-rotate"),
    path("<str:public_id>/revoke/", views.api_key_revoke_page, name="api-key-revoke"),
]
