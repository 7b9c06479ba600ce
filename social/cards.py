"""Post cards on the pages: one post (with its action bar) rendered by Jinja2.

A feed page shows 20 cards; Django's template engine spent ~0.6 ms on each (three includes,
eight ``{% url %}`` reversals, seven icons, three CSRF fields, date filters), five times what
the whole home-feed API request costs (bench/RESULTS.md, "HTML pages"). The card is the same
markup as a compiled Jinja2 template (``templates/social/_post.jinja`` and its parts), fed the
post dict of ``social.presenters.post_present`` unchanged, plus what the page knows once: who is
signed in, the page's CSRF token and its path (the forms' ``next``), and its script prefix, time
zone, language and time (``CardPage``). URLs come from the URLconf, reversed once per process
(``_route``). Icons, URLs and times are filters (``"heart"|icon``,
``p.id|post_url('social:post', page)``): Jinja2 calls a filter of constants once, when it compiles
the template, and any other filter directly, where a global function goes through its
``context.call``. A page's cards are one render (``post_cards_render``) of macros
(``_post_macros.jinja``), which write into one buffer where includes nest generators. Django
templates show a card with ``{% post_card %}`` and a feed page's items with ``{% post_cards %}``
(``social.templatetags.post_cards``); htmx's action-bar swap uses ``post_actions_render``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache, cached_property, lru_cache
from typing import Any

import jinja2
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from markupsafe import Markup

from config.templatetags.ui import WEEK, at_most, full_time, relative_time
from social.templatetags.icons import icon

# A post id no real post has: reversed once, then replaced by each post's id.
_SENTINEL = 987654321987


@dataclass(frozen=True)
class CardPage:
    """What every card of one page shares: who is signed in, the page's CSRF token and path, and
    what the cards' URLs and times depend on, read once per page (each is a thread-local lookup,
    several a card otherwise): the script prefix, time zone, language and the time of the page."""

    signed_in: bool
    csrf_token: str
    next_path: str
    prefix: str = field(default_factory=get_script_prefix)
    zone: tzinfo = field(default_factory=timezone.get_current_timezone)
    zone_name: str = field(default_factory=timezone.get_current_timezone_name)
    language: str | None = field(default_factory=get_language)
    now: datetime = field(default_factory=timezone.now)

    @cached_property
    def hidden_fields(self) -> Markup:
        """The CSRF token and ``next`` of each action form, escaped once per page, not per card."""
        return Markup(  # noqa: S704 - both values escaped here
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
        ).format(self.csrf_token, self.next_path)

    @cached_property
    def this_year(self) -> int:
        return self.now.astimezone(self.zone).year


def _post_url(post_id: int, name: str, page: CardPage) -> str:
    """The ``post_url`` filter: ``reverse(name, args=[post_id])`` under the page's prefix,
    without a reversal per post."""
    return _route(name, page.prefix).format(post_id)


@cache
def _route(name: str, prefix: str) -> str:
    return reverse(name, args=[_SENTINEL]).replace(str(_SENTINEL), "{}")


@cache
def _icon(name: str, style: str = "mini") -> Markup:
    """The ``icon`` filter: ``{{ "heart"|icon }}``. A filter of constants, so Jinja2 calls it when
    it compiles the template and writes the tag into it: no call per card."""
    return Markup(icon(name, style))  # noqa: S704 - the sprite tag's own escaped output


def _iso_time(value: datetime, page: CardPage) -> str:
    """Django's ``|date:'c'`` in the page's time zone."""
    return value.astimezone(page.zone).isoformat()


# Django's date_format (month names through translation) costs ~30 µs a call, two or three a
# card: the labels below are config.templatetags.ui's, remembered for what they depend on.


def _full_time(value: datetime | None, page: CardPage) -> str:
    """``ui.full_time``: it shows minutes, so it depends on the minute, time zone and language."""
    if value is None:
        return ""
    return _full_time_of(value.replace(second=0, microsecond=0), page.zone_name, page.language)


@lru_cache(maxsize=8192)
def _full_time_of(minute: datetime, zone: str, language: str | None) -> str:
    return full_time(minute)


def _relative_time(value: datetime | None, page: CardPage) -> str:
    """``ui.relative_time``; past a week it is a date: it depends on the local day, this year
    and the language."""
    if value is None:
        return ""
    now = page.now
    if (now - value).total_seconds() < WEEK:
        return relative_time(value, now)
    key = (value.astimezone(page.zone).date(), page.this_year, page.language)
    label = _old_dates.get(key)
    if label is None:
        if len(_old_dates) > _OLD_DATES_MAX:
            _old_dates.clear()
        label = _old_dates[key] = relative_time(value, now)
    return label


_old_dates: dict[tuple[object, ...], str] = {}
_OLD_DATES_MAX = 8192


class _Environment(jinja2.Environment):
    """Cards read dicts: ``p.id`` looks up the key first (Jinja2 tries the attribute first,
    and an AttributeError per lookup costs a microsecond)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def _environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(settings.BASE_DIR / "templates")),
        autoescape=True,
        auto_reload=settings.DEBUG,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=False,
    )
    # ``{{ p.id|post_url('social:post') }}``: a filter is a plain call in the compiled template,
    # a global function goes through Jinja2's context.call (a few microseconds, 100 a page).
    env.filters.update(
        at_most=at_most,
        full_time=_full_time,
        relative_time=_relative_time,
        iso_time=_iso_time,
        icon=_icon,
        post_url=_post_url,
    )
    return env


def card_page(request: HttpRequest, *, signed_in: bool, csrf_token: object = None) -> CardPage:
    """The page's share of every card; ``csrf_token`` the page's own (one token per page)."""
    return CardPage(
        signed_in=signed_in,
        csrf_token=str(csrf_token) if csrf_token else get_token(request),
        next_path=request.get_full_path(),
    )


def post_card_render(
    page: CardPage,
    p: dict[str, Any],
    *,
    reposted_by: dict[str, Any] | None = None,
    item_id: int | None = None,
    depth: int | None = None,
) -> SafeString:
    """One post's card (``templates/social/_post.jinja``)."""
    html = (
        _environment()
        .get_template("social/_post.jinja")
        .render(page=page, p=p, reposted_by=reposted_by, item_id=item_id, depth=depth)
    )
    return mark_safe(html)  # noqa: S308 - autoescaped by Jinja2


def post_cards_render(page: CardPage, items: list[dict[str, Any]]) -> SafeString:
    """Feed items' cards (``templates/social/_post_cards.jinja``), one Jinja2 render for all."""
    html = _environment().get_template("social/_post_cards.jinja").render(page=page, items=items)
    return mark_safe(html)  # noqa: S308 - autoescaped by Jinja2


def post_actions_render(request: HttpRequest, p: dict[str, Any]) -> SafeString:
    """A post's action bar alone, for htmx to swap in after an action."""
    page = card_page(request, signed_in=request.user.is_authenticated)
    html = _environment().get_template("social/_post_actions.jinja").render(page=page, p=p)
    return mark_safe(html)  # noqa: S308 - autoescaped by Jinja2
