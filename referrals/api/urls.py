from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from referrals.api import views

app_name = "referrals_api"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ReferralListApi.as_view(), name="list"),
    path("code/", views.ReferralCodeApi.as_view(), name="code"),
    path("stats/", views.ReferralStatsApi.as_view(), name="stats"),
    path("apply/", views.ReferralApplyApi.as_view(), name="apply"),
    path("rewards/", views.RewardListApi.as_view(), name="rewards"),
]
