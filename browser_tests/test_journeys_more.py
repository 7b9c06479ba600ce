"""More journeys, in the browser, asserting what the person sees: search, report, change plan,
referral reward, two-factor sign-in, sessions, export and delete.

Short journeys run at both sizes. The two that pay on the Stripe stand-in (change plan,
referral reward) run at desktop size only: each walks a checkout and a dozen pages (~2x the
others' time), and every page they reach is already checked at phone width elsewhere (the
pricing-to-portal journey of test_journeys.py, and test_pages.py's billing and referral pages).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from accounts.tests.auth_helpers import STRONG_PASSWORD
from accounts.tests.factories import DEFAULT_PASSWORD
from browser_tests.conftest import VIEWPORTS, Browser
from social.models import Report
from social.tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)

desktop_only = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)


# --- helpers ------------------------------------------------------------------------------------
def _catalogue(stand_in: Any) -> None:
    from billing.catalogue import catalogue_ensure, catalogue_sync

    stand_in.webhook_endpoint()
    catalogue_ensure()
    catalogue_sync()
    stand_in.deliver_webhooks(Client())


def _pay_on_the_stand_in(browser: Browser, stand_in: Any, *, plan: str) -> None:
    """From the pricing page, ``plan``'s monthly checkout on the stand-in, paid by card, and the
    stand-in's webhooks delivered (as Stripe would in the seconds after)."""
    page = browser.page
    browser.goto("/billing/pricing/")
    with page.expect_navigation():
        page.locator(f".pricing [data-plan={plan}] form button[type=submit]").click()
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


def _sign_up_and_verify(browser: Browser, *, email: str, handle: str) -> None:
    page = browser.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Username").fill(handle)
    page.fill("input[name=password1]", STRONG_PASSWORD)
    page.fill("input[name=password2]", STRONG_PASSWORD)
    browser.submit("Sign Up", name="signed up")
    sent = [m for m in mail.outbox if email in m.to]
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", str(sent[-1].body))
    assert match, sent[-1].body
    browser.goto(match.group(1))
    browser.submit("Confirm", name="e-mail confirmed")


def _sign_out(browser: Browser) -> None:
    browser.page.context.clear_cookies()


# --- journeys ---------------------------------------------------------------------------------
def test_search_finds_posts_and_people(browser: Browser) -> None:
    bob = make_user(handle="bob", email="bob@example.com")
    make_post(bob, "Sunset over the harbour #photography")
    make_post(bob, "Nothing to see here")
    make_user(handle="alice", email="alice@example.com")
    page = browser.page
    browser.log_in("alice@example.com")

    browser.goto("/search/")
    page.locator("input[name=q]").fill("harbour")
    browser.submit("Search", name="posts found")
    expect(page.locator(".post-body", has_text="Sunset over the harbour")).to_have_count(1)
    expect(page.get_by_text("Nothing to see here")).to_have_count(0)

    page.locator("input[name=q]").fill("bob")
    page.locator("select[name=type]").select_option(label="People")
    browser.submit("Search", name="people found")
    expect(page.get_by_role("link", name=re.compile("bob")).first).to_be_visible()


def test_report_a_post(browser: Browser) -> None:
    troll = make_user(handle="troll", email="troll@example.com")
    post = make_post(troll, "Buy cheap followers now")
    make_user(handle="alice", email="alice@example.com")
    page = browser.page
    browser.log_in("alice@example.com")

    browser.goto(f"/posts/{post.pk}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Report").click()
    browser.check("report form")
    expect(page.get_by_role("heading", name="Report a post by @troll")).to_be_visible()
    page.get_by_label("Reason").select_option(label="Spam")
    page.get_by_label("Comment").fill("Selling followers")
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    browser.check("reported")  # back on the post page

    expect(page.get_by_text("Thank you. A moderator will look at your report.")).to_be_visible()
    report = Report.objects.get()
    assert (report.post_id, report.reason, report.comment) == (post.pk, "spam", "Selling followers")


@desktop_only
def test_pay_then_change_plan(browser: Browser, stand_in: Any) -> None:
    _catalogue(stand_in)
    make_user(handle="hana", email="hana@example.com")
    page = browser.page
    browser.log_in("hana@example.com")
    _pay_on_the_stand_in(browser, stand_in, plan="pro")

    browser.goto("/billing/")
    plan = page.get_by_role("region", name="Plan")
    expect(plan).to_contain_text("Pro")
    team_monthly = page.locator("#price_id option", has_text="Team monthly").get_attribute("value")
    page.get_by_label("New plan").select_option(team_monthly)
    browser.submit("Preview the change", name="change preview")
    expect(page.get_by_role("heading", name="Change to Team")).to_be_visible()
    # Pro's trial does not carry over to Team (docs/billing.md): the preview says it is charged now.
    expect(page.get_by_text("is charged today for your first month")).to_be_visible()

    browser.submit("Confirm change", name="plan changed")
    expect(page.get_by_text("Your plan was changed.")).to_be_visible()
    stand_in.deliver_webhooks(Client())
    browser.goto("/billing/")
    expect(page.get_by_role("region", name="Plan")).to_contain_text("Team")


@desktop_only
def test_referral_link_sign_up_pay_and_the_referrer_sees_the_reward(browser: Browser, stand_in: Any) -> None:
    from referrals.services import referral_code_ensure

    _catalogue(stand_in)
    rita = make_user(handle="rita", email="rita@example.com")
    code = referral_code_ensure(user=rita).code
    page = browser.page

    browser.goto(f"/r/{code}")
    if "/accounts/signup/" not in browser.path:
        with page.expect_navigation():
            page.get_by_role("link", name="Sign up").first.click()
        browser.check("sign-up from the referral link")
    _sign_up_and_verify(browser, email="newbie@example.com", handle="newbie")
    if "/accounts/login/" in browser.path:
        browser.log_in("newbie@example.com", STRONG_PASSWORD)
    # Team: Pro's free trial would make a $0 first invoice, which earns no reward yet.
    _pay_on_the_stand_in(browser, stand_in, plan="team")

    _sign_out(browser)
    browser.log_in("rita@example.com")
    browser.goto("/settings/referrals/")
    expect(page.locator("#stat-signups")).to_have_text("1")
    expect(page.locator("#stat-conversions")).to_have_text("1")
    rewards = page.get_by_role("region", name="Rewards")
    expect(rewards).to_contain_text("5.00")
    expect(rewards).to_contain_text("Pending")
    # The referred person is shown masked (their address is theirs), as converted.
    referred = page.get_by_role("region", name="People you referred")
    expect(referred).to_contain_text("ne***@e***.com")
    expect(referred).to_contain_text("Converted")


def test_two_factor_setup_then_sign_in_with_a_code(browser: Browser) -> None:
    make_user(handle="tess", email="tess@example.com")
    page = browser.page
    browser.log_in("tess@example.com")

    browser.goto("/accounts/2fa/totp/activate/")
    expect(page.get_by_text("Please reauthenticate")).to_be_visible()  # a password again first
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    browser.submit("Confirm", name="re-authenticated")
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    browser.submit("Activate", name="totp activated")
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()

    _sign_out(browser)
    browser.log_in("tess@example.com")
    assert "/accounts/2fa/authenticate/" in browser.path, browser.path
    # A code of the next period (within the accepted tolerance): the one used to activate may
    # not be used twice.
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).at(time.time() + 30))
    browser.submit("Sign In", name="signed in with a code")
    browser.goto("/settings/security/")
    expect(page.get_by_role("main")).to_contain_text("Signed in")


def test_see_and_end_another_session(browser: Browser, chromium: Any) -> None:
    make_user(handle="sam", email="sam@example.com")
    page = browser.page
    # Signed in on a phone too: a second session, with its own cookies.
    other = chromium.new_context(
        viewport=VIEWPORTS["phone"],
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    )
    try:
        other_browser = Browser(
            page=other.new_page(),
            base_url=browser.base_url,
            viewport="phone",
            test_name=f"{browser.test_name}-other",
        )
        other_browser.log_in("sam@example.com")
        browser.log_in("sam@example.com")

        browser.goto("/accounts/sessions/")
        rows = page.locator("table.sessions tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="Current")).to_have_count(1)
        other_row = rows.filter(has_not_text="Current")
        other_row.get_by_role("button", name=re.compile("Sign out the session")).click()
        page.wait_for_load_state("load")
        browser.goto("/accounts/sessions/")
        expect(page.locator("table.sessions tbody tr")).to_have_count(1)

        other_browser.page.goto(f"{browser.base_url}/settings/security/")
        assert "/accounts/login/" in other_browser.path, other_browser.path
    finally:
        other.close()


def test_export_then_delete_the_account(browser: Browser) -> None:
    from accounts.models import User

    user = make_user(handle="dana", email="dana@example.com")
    make_post(user, "A post to take with me")
    page = browser.page
    browser.log_in("dana@example.com")

    browser.goto("/settings/account/")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json"), download.suggested_filename
    with open(download.path(), encoding="utf-8") as exported:
        assert "A post to take with me" in exported.read()

    page.get_by_label(re.compile("handle", re.IGNORECASE)).fill("dana")
    page.once("dialog", lambda dialog: dialog.accept())
    browser.submit("Delete my account", name="asked to re-authenticate")
    if page.locator("input[name=password]").count():
        page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
        browser.submit("Confirm", name="account deleted")
    expect(page.get_by_text("Your account and all its data have been deleted.")).to_be_visible()
    assert not User.objects.filter(handle="dana").exists()


@desktop_only
def test_the_post_page_passes_the_accessibility_check(browser: Browser) -> None:
    post = make_post(make_user(handle="bob"), "Hello")
    make_user(handle="alice", email="alice@example.com")
    browser.log_in("alice@example.com")
    browser.goto(f"/posts/{post.pk}/")


def test_unsubscribe_from_a_notification_email_without_signing_in(browser: Browser) -> None:
    from social import services
    from social.tests.factories import after_commit

    ann = make_user(handle="ann", email="ann@example.com")
    with after_commit():
        services.follow_create(follower=make_user(handle="bob"), followee=ann)
    [email] = [m for m in mail.outbox if "ann@example.com" in m.to]
    assert email.subject == "@bob followed you"
    match = re.search(r"no sign-in\): https?://[^/\s]+(\S+)", str(email.body))
    assert match, email.body
    page = browser.page

    browser.goto(match.group(1))
    expect(page.get_by_text("Stop e-mails about new followers to ann@example.com?")).to_be_visible()
    browser.submit("Unsubscribe", name="unsubscribed")
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    browser.submit("Undo: subscribe again", name="subscribed again")
    expect(page.get_by_role("heading", name="You are subscribed again")).to_be_visible()
