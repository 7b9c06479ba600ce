"""Every page, signed out and signed in, passes the common checks at both sizes (console, failed
requests, CSP, width, axe-core; see conftest.Browser.check)."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import staff_member
from browser_tests.conftest import Browser
from social import moderation, services
from social.tests.factories import make_follow, make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_PAGES = [
    "/",
    "/explore/",
    "/billing/pricing/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/search/?q=hello",
    "/@alice",
    "/@alice/followers/",
    "/tags/relay/",
]
# The vendored API docs UIs, each with the element that shows it has rendered (Redoc renders
# after the load event, so a check without the wait would race it).
DOCS_PAGES = {
    "/api/docs/": ".swagger-ui",
    "/api/redoc/": "text=API docs by Redocly",
    "/_allauth/openapi.html": "text=API docs by Redocly",
}
# Redoc's menu shows an "API docs by Redocly" logo from Redocly's CDN; the docs pages' CSP
# refuses it by design (nothing on the site loads from outside) and Redoc hides the broken image.
REDOC_ATTRIBUTION_LOGO = "https://cdn.redoc.ly/"

SIGNED_IN_PAGES = [
    "/",
    "/explore/",
    "/notifications/",
    "/bookmarks/",
    "/search/?q=relay",
    "/search/?q=ali&type=users",
    "/search/?q=rel&type=tags",
    "/@alice",
    "/@bob",
    "/@bob/following/",
    "/settings/",
    "/settings/profile/",
    "/settings/notifications/",
    "/settings/account/",
    "/settings/security/",
    "/settings/relationships/",
    "/follow-requests/",
    "/settings/api-keys/",
    "/settings/referrals/",
    "/billing/",
    "/billing/pricing/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
]


def _world() -> int:
    alice = make_user(handle="alice", email="alice@example.com")
    bob = make_user(handle="bob", email="bob@example.com")
    make_follow(alice, bob)
    make_follow(bob, alice)
    post = make_post(bob, "Hello from #relay, @alice " + "averyveryverylongunbrokenword" * 8)
    make_post(alice, "Second post #relay")
    return post.pk


def test_public_pages(browser: Browser) -> None:
    _world()
    for path in PUBLIC_PAGES:
        browser.goto(path)
    for path, ready in DOCS_PAGES.items():
        browser.goto(path, axe=False, ready=ready, blocked_by_policy=(REDOC_ATTRIBUTION_LOGO,))


def test_signed_in_pages(browser: Browser) -> None:
    post_id = _world()
    # A notice from the site itself on the notifications page: alice's report was reviewed.
    alice = User.objects.get(handle="alice")
    report = services.report_create(reporter=alice, reason="spam", post_id=post_id)
    moderation.moderation_dismiss(moderator=staff_member("Moderation"), report=report, note="fine")
    browser.log_in("alice@example.com")
    for path in [*SIGNED_IN_PAGES, f"/posts/{post_id}/"]:
        browser.goto(path)


def test_missing_page_is_branded(browser: Browser) -> None:
    browser.goto("/no-such-page/", status=404)
    assert "not found" in browser.text().lower()
