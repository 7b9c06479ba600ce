"""``{% icon "heart" %}``: an icon of the project's sprite (social.icons), hidden from assistive
technology (the control it sits in carries the words)."""

from __future__ import annotations

from functools import cache

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

SIZES = {"outline": 24, "mini": 20, "solid": 20}


@cache
def _sprite_url() -> str:
    # One lookup per process: the sprite's (hashed) URL does not change while it runs.
    return static("img/icons.svg")


@register.simple_tag
def icon(name: str, style: str = "mini") -> SafeString:
    return _icon(name, style)


@cache
def _icon(name: str, style: str) -> SafeString:
    # The same few tags on every page (the navigation alone draws a dozen): built once each.
    size = SIZES[style]
    return format_html(
        '<svg class="icon" width="{}" height="{}" aria-hidden="true" focusable="false">'
        '<use href="{}#{}-{}"></use></svg>',
        size,
        size,
        _sprite_url(),
        style,
        name,
    )
