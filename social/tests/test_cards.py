"""Post cards (social.cards): a feed page's cards drawn in one render are the cards drawn one
by one, for every variant, and each action form carries the page's own token and path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from social.cards import CardPage, post_card_render, post_cards_render
from social.tests.factories import make_follow, make_post, make_user

pytestmark = pytest.mark.django_db


def _post(**overrides) -> dict:
    post = {
        "id": 41,
        "author": {"id": 3, "handle": "ann", "display_name": "Ann <b>", "avatar_url": "/static/a.svg"},
        "text": "hi",
        "html": "hi &amp; bye",
        "visibility": "public",
        "content_warning": "",
        "reply_to_id": None,
        "root_id": None,
        "is_pinned": False,
        "created_at": timezone.now() - timedelta(minutes=5),
        "edited_at": None,
        "like_count": 2,
        "reply_count": 1,
        "repost_count": 0,
        "liked": False,
        "reposted": False,
        "bookmarked": False,
        "repostable": True,
        "images": [],
    }
    return {**post, **overrides}


VARIANTS = [
    _post(),
    _post(id=42, reply_to_id=41, root_id=41, visibility="followers", repostable=False),
    _post(id=43, content_warning="spoilers <i>", edited_at=timezone.now(), is_pinned=True),
    _post(id=44, images=[{"url": "/media/x.png", "width": 3, "height": 4, "alt_text": 'a "b"'}] * 2),
    _post(id=45, liked=True, reposted=True, bookmarked=True, visibility="mentioned"),
    _post(id=46, created_at=timezone.now() - timedelta(days=40)),
]


@pytest.mark.parametrize("signed_in", [True, False])
def test_a_page_of_cards_in_one_render_is_each_card_drawn_alone(signed_in):
    page = CardPage(signed_in=signed_in, csrf_token="tok", next_path="/?q=<x>")
    items = [
        {
            "id": 900 + i,
            "post": post,
            "reposted_by": {"handle": "rp", "display_name": "R&P"} if i % 2 else None,
        }
        for i, post in enumerate(VARIANTS)
    ]
    together = post_cards_render(page, items)
    alone = [
        post_card_render(page, item["post"], reposted_by=item["reposted_by"], item_id=item["id"])
        for item in items
    ]
    squeeze = lambda html: re.sub(r">\s+<", "><", html).strip()  # noqa: E731
    assert squeeze(together) == squeeze("".join(alone))
    assert together.count('<article class="post') == len(VARIANTS)
    assert "Ann &lt;b&gt;" in together and "R&amp;P" in together and "spoilers &lt;i&gt;" in together
    assert ("/posts/41/like/" in together) is signed_in


def test_every_action_form_carries_the_pages_token_and_escaped_path(client):
    author, reader = make_user(), make_user()
    make_follow(reader, author)
    for number in range(3):
        make_post(author, f"post {number}")
    client.force_login(reader)
    html = client.get("/", {"q": '"><script>'}).content.decode()
    cards = html.split('<section aria-label="Home timeline"', 1)[1]
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', cards)
    assert len(tokens) == 3 * 3 and len(set(tokens)) == 1  # the cards share one token per page
    nexts = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)
    assert len(nexts) == 3 * 3  # like, repost, bookmark on each post
    assert set(nexts) == {"/?q=%22%3E%3Cscript%3E"}
    assert "<script>" not in html.split("<main", 1)[1]


def test_the_post_cards_tag_draws_a_feed_page():
    request = RequestFactory().get("/")
    request.user = make_user()
    template = Template("{% load post_cards %}{% post_cards items %}")
    html = template.render(
        Context(
            {
                "items": [{"id": 1, "post": _post(), "reposted_by": None}],
                "request": request,
                "user": request.user,
            }
        )
    )
    assert 'id="post-41"' in html and "/posts/41/like/" in html
