"""``{% post_card p reposted_by=... item_id=... depth=... %}``: a post's card (social.cards),
with what the page's cards share computed once per render; ``{% post_cards items %}``: a feed
page's items, all in one render."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.utils.safestring import SafeString

from social.cards import CardPage, card_page, post_card_render, post_cards_render

register = template.Library()


_KEY = "social.post_cards.page"


def _page(context: template.Context) -> CardPage:
    # The first dict lives for the render of the whole page, included templates too.
    cache = cast(dict[str, Any], context.render_context.dicts[0])
    page = cache.get(_KEY)
    if page is None:
        user = context.get("user")
        page = card_page(
            context["request"],
            signed_in=bool(user is not None and user.is_authenticated),
            csrf_token=context.get("csrf_token"),
        )
        cache[_KEY] = page
    return cast(CardPage, page)


@register.simple_tag(takes_context=True)
def post_card(
    context: template.Context,
    p: dict[str, Any],
    reposted_by: dict[str, Any] | None = None,
    item_id: int | None = None,
    depth: int | None = None,
) -> SafeString:
    return post_card_render(_page(context), p, reposted_by=reposted_by, item_id=item_id, depth=depth)


@register.simple_tag(takes_context=True)
def post_cards(context: template.Context, items: list[dict[str, Any]]) -> SafeString:
    return post_cards_render(_page(context), items)
