"""Journeys a person takes, in the browser at both sizes, asserting what they see."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.tests.auth_helpers import STRONG_PASSWORD
from accounts.tests.factories import DEFAULT_PASSWORD
from browser_tests.conftest import Browser
from social.tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _confirmation_path(address: str) -> str:
    sent = [m for m in mail.outbox if address in m.to]
    assert sent, f"no e-mail to {address}"
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", str(sent[-1].body))
    assert match, sent[-1].body
    return match.group(1)


def test_sign_up_verify_post_follow_and_be_notified(browser: Browser) -> None:
    bob = make_user(handle="bob", email="bob@example.com")
    make_post(bob, "Bob's first post")
    page = browser.page

    browser.goto("/accounts/signup/")
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Username").fill("newcomer")
    page.fill("input[name=password1]", STRONG_PASSWORD)
    page.fill("input[name=password2]", STRONG_PASSWORD)
    browser.submit("Sign Up", name="signed up")
    assert "verif" in browser.text().lower()

    browser.goto(_confirmation_path("newcomer@example.com"))
    browser.submit("Confirm", name="e-mail confirmed")

    browser.goto("/")
    page.get_by_label("Post text").fill("Hello, I am new here")
    browser.submit("Post", name="first post")
    expect(page.locator(".post-body", has_text="Hello, I am new here").first).to_be_visible()

    browser.goto("/@bob")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    browser.check("followed bob")

    page.context.clear_cookies()
    browser.log_in("bob@example.com")
    browser.goto("/notifications/")
    expect(page.locator(".notification", has_text="followed you")).to_contain_text("newcomer")


def test_a_private_account_answers_a_follow_request(browser: Browser) -> None:
    make_user(handle="carol", email="carol@example.com", private=True)
    make_user(handle="dave", email="dave@example.com")
    page = browser.page
    browser.log_in("dave@example.com")
    browser.goto("/@carol")
    page.get_by_role("button", name="Request to follow").click()
    expect(page.get_by_role("button", name="Requested (cancel)")).to_be_visible()
    browser.check("requested")

    page.context.clear_cookies()
    browser.log_in("carol@example.com")
    # The request is one click from the navigation; accepting it answers in place.
    page.get_by_role("link", name="Follow requests").first.click()
    page.wait_for_load_state("load")
    browser.check("follow requests")
    expect(page.get_by_text("@dave").first).to_be_visible()
    page.get_by_role("button", name="Accept").click()
    expect(page.locator(".toast")).to_contain_text("@dave follows you now.")
    expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    browser.check("accepted")
    browser.goto("/@carol/followers/")
    expect(page.get_by_text("@dave").first).to_be_visible()


def test_block_then_unblock_from_the_profile(browser: Browser) -> None:
    make_user(handle="erin", email="erin@example.com")
    make_user(handle="frank", email="frank@example.com")
    page = browser.page
    browser.log_in("erin@example.com")
    browser.goto("/@frank")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Block").click()
    browser.check("blocked")
    page.get_by_role("button", name="Unblock").click()


def test_block_asks_first_and_unblock_from_settings(browser: Browser) -> None:
    make_user(handle="erin", email="erin@example.com")
    make_user(handle="frank", email="frank@example.com")
    page = browser.page
    browser.log_in("erin@example.com")
    browser.goto("/@frank")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Block").click()
    expect(page.get_by_role("button", name="Block")).to_be_visible()  # dismissed: nothing happened
    browser.goto("/settings/relationships/")
    assert "@frank" not in browser.text()

    browser.goto("/@frank")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Block").click()
    browser.page.wait_for_load_state("load")
    browser.goto("/settings/relationships/")
    expect(page.get_by_text("@frank").first).to_be_visible()
    page.get_by_role("button", name="Unblock").click()
    expect(page.locator(".toast")).to_contain_text("You unblocked @frank.")
    # The toast names @frank; what must be gone is the unblock form itself.
    expect(page.get_by_role("button", name="Unblock")).to_have_count(0)
    browser.check("unblocked")


def test_api_key_create_and_revoke(browser: Browser) -> None:
    make_user(handle="gina", email="gina@example.com")
    page = browser.page
    browser.log_in("gina@example.com")
    browser.goto("/settings/api-keys/")
    page.get_by_label("Name").fill("laptop script")
    page.locator("input[name=scopes]").first.check()
    # Minting a key asks for the password again (allauth's re-authentication), then the
    # remembered form is replayed and the new key is shown once.
    browser.submit("Create key", name="asked to re-authenticate")
    expect(page.get_by_text("reauthenticate", exact=False).first).to_be_visible()
    page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    browser.submit("Confirm", name="key created")
    expect(page.get_by_text("relay_test_").first).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    browser.submit("Revoke", name="key revoked")
    expect(page.get_by_text("Revoked").first).to_be_visible()


def test_pricing_checkout_billing_cancel_resume_and_portal(browser: Browser, stand_in: Any) -> None:
    from django.test import Client

    from billing.catalogue import catalogue_ensure, catalogue_sync

    stand_in.webhook_endpoint()
    catalogue_ensure()
    catalogue_sync()
    stand_in.deliver_webhooks(Client())
    make_user(handle="hana", email="hana@example.com")
    page = browser.page
    browser.log_in("hana@example.com")
    browser.goto("/billing/pricing/")
    with page.expect_navigation():
        page.locator(".pricing form button[type=submit]").first.click()
    assert page.url.startswith(stand_in.base_url), page.url
    browser.problems.clear()  # the stand-in's own page is not ours to check
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    with page.expect_navigation():
        page.get_by_role("button", name="Subscribe").click()
    assert page.url.startswith(browser.base_url), page.url
    page.wait_for_load_state("load")
    browser.problems.clear()  # the stand-in's page asks it for a favicon it does not have
    stand_in.deliver_webhooks(Client())
    browser.goto("/billing/")
    expect(page.get_by_role("button", name="Cancel at period end")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    browser.submit("Cancel at period end", name="cancelled")
    stand_in.deliver_webhooks(Client())
    browser.goto("/billing/")
    expect(page.get_by_text("Ends on").first).to_be_visible()
    browser.submit("Resume subscription", name="resumed")
    stand_in.deliver_webhooks(Client())
    browser.goto("/billing/")
    expect(page.get_by_text("Renews on").first).to_be_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="Manage billing in the customer portal").click()
    assert page.url.startswith(stand_in.base_url), page.url
    browser.problems.clear()
