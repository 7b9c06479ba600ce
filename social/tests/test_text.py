from __future__ import annotations

from social.text import extract_hashtags, extract_mentions, render_post_text


def test_everything_is_escaped():
    html = render_post_text('<script>alert("x")</script> & <b>bold</b>', existing_handles=[])
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html


def test_mentions_of_existing_users_only_are_linked():
    html = render_post_text("hi @alice and @ghost", existing_handles=["Alice"])
    assert '<a class="mention" href="/@Alice">@alice</a>' in html
    assert "@ghost" in html
    assert 'href="/@ghost"' not in html


def test_hashtags_and_urls_are_linked_safely():
    html = render_post_text("see https://example.com/a?b=1&c=2. #Django", existing_handles=[])
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener ugc" target="_blank">' in html
    assert html.count("</a>.") == 1  # trailing punctuation stays outside the link
    assert '<a class="hashtag" href="/tags/django/">#Django</a>' in html


def test_javascript_urls_are_not_linked():
    html = render_post_text('javascript:alert(1) "onmouseover=x', existing_handles=[])
    assert "<a" not in html


def test_url_cannot_break_out_of_attribute():
    html = render_post_text('https://x.com/"onmouseover="alert(1)', existing_handles=[])
    assert 'href="https://x.com/"' in html
    assert '"onmouseover="' not in html


def test_extractors():
    assert extract_mentions("@bob @Bob hi @al x@y.com") == ["bob"]
    assert extract_hashtags("#One #one #two https://x.com/#frag") == ["one", "two"]
