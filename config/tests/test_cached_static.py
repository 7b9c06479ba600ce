"""{% load static %} is Django's library with each URL remembered per process."""

from __future__ import annotations

from django.template import Context, Template
from django.templatetags.static import static

from config.templatetags import cached_static


def test_static_urls_are_the_storages_and_asked_once(settings):
    settings.DEBUG = False
    cached_static._urls.clear()
    html = Template("{% load static %}{% static 'css/app.css' %} {% get_static_prefix %}").render(Context())
    assert html == f"{static('css/app.css')} {settings.STATIC_URL}"
    assert cached_static._urls == {"css/app.css": static("css/app.css")}
    settings.STATIC_URL = "/assets/"  # a changed setting forgets what was remembered
    assert cached_static._urls == {}
    assert Template("{% load static %}{% static 'css/app.css' %}").render(Context()) == "/assets/css/app.css"
