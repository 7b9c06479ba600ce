from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from social import views

app_name = "social"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
]
