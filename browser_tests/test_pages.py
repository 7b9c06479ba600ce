"""Every page, signed out and signed in, passes the common checks at both sizes."""

from __future__ import annotations

import pytest

from browser_tests.conftest import Browser
from social.tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_PAGES = [
    "/",
    "/explore/",
    "/billing/pricing/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/search/?q=hello",
]


def test_public_pages(browser: Browser) -> None:
    author = make_user(handle="alice")
    make_post(author, "Hello from #relay")
    for path in [*PUBLIC_PAGES, "/@alice", "/tags/relay/"]:
        browser.goto(path)


def test_missing_page_is_branded(browser: Browser) -> None:
    browser.goto("/no-such-page/", status=404)
    assert "not found" in browser.text().lower()
