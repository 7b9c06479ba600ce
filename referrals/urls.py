from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from referrals import views

app_name = "referrals"
urlpatterns: list[URLPattern | URLResolver] = [
    path("r/<str:code>", views.referral_link, name="link"),
    path("settings/referrals/", views.referrals_settings, name="settings"),
]
