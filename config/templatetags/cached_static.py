"""Django's ``static`` template library with ``{% static %}`` remembered per process.

Registered under the library name ``static`` (``TEMPLATES`` ``libraries`` in settings), so every
``{% load static %}`` gets it. A static file's URL is the same for the life of a process (the
manifest is read once at start), yet each ``{% static %}`` asked the storage again: on the
signed-in home page its seven tags cost as much CPU as the feed statement (bench/RESULTS.md,
"HTML pages, in process"). Nothing user-specific is kept: only path -> URL. Not with DEBUG
(files and templates change while the server runs), and forgotten when a test changes the
static settings.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags import static as django_static

register = template.Library()
register.tags.update(django_static.register.tags)
register.filters.update(django_static.register.filters)

_urls: dict[str, str] = {}


class CachedStaticNode(django_static.StaticNode):
    @classmethod
    def handle_simple(cls, path: str) -> str:
        if settings.DEBUG:
            return str(super().handle_simple(path))
        url = _urls.get(path)
        if url is None:
            url = _urls[path] = str(super().handle_simple(path))
        return url


@register.tag("static")
def do_static(parser: template.base.Parser, token: template.base.Token) -> template.Node:
    """``{% static path [as varname] %}``, as Django's."""
    return CachedStaticNode.handle_token(parser, token)


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs: Any) -> None:
    if setting in {"STATIC_URL", "STORAGES", "STATIC_ROOT", "DEBUG"}:
        _urls.clear()
