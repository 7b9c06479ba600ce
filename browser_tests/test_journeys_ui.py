"""What a person sees of the redesigned pages: the composer (counter, previews, errors by
their field), the first-run home, the unread badge, and the navigation at both sizes."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, expect

from browser_tests.conftest import Browser
from social import services
from social.models import Post
from social.tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _png(name: str) -> FilePayload:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(buffer, format="PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def test_first_run_suggests_people_and_the_composer_counts_and_previews(browser: Browser) -> None:
    writer = make_user(handle="writer", email="writer@example.com")
    worth_reading = make_post(writer, "Worth reading on day one")
    make_user(handle="newbie", email="newbie@example.com")
    page = browser.page
    browser.log_in("newbie@example.com")
    expect(page.get_by_text("Your home feed is empty")).to_be_visible()
    expect(page.locator(".post-body", has_text="Worth reading on day one")).to_be_visible()
    page.get_by_role("button", name="Follow @writer").click()
    expect(page.locator(".toast")).to_contain_text("You follow @writer.")
    expect(page.locator(".suggested-people").get_by_role("button", name="Unfollow")).to_be_visible()
    browser.check("followed from suggestions")

    # Every option is in view; the counter follows the plan's limit as one types.
    text = page.get_by_label("Post text")
    text.fill("x" * 490)
    expect(page.locator("#compose-counter")).to_contain_text("490 / 500 · 10 left")
    text.fill("x" * 505)
    expect(page.locator("#compose-counter")).to_contain_text("5 too many")
    expect(page.get_by_label("Who can see it")).to_be_visible()
    expect(page.get_by_label("Content warning (optional)")).to_be_visible()

    # Two images: a preview and a description box each, which the post keeps.
    page.get_by_label("Images (up to 4)").set_input_files([_png("a.png"), _png("b.png")])
    expect(page.locator(".compose-preview img")).to_have_count(2)
    page.get_by_label("Description of image 1").fill("a blue square")
    page.get_by_label("Description of image 2").fill("another blue square")
    browser.check("previews")
    text.fill("Two squares")
    browser.submit("Post", name="posted with images")
    expect(page.locator(".post", has_text="Two squares").locator("img[alt='a blue square']")).to_be_visible()

    # Five images are refused before sending, the message by the image field.
    page.get_by_label("Images (up to 4)").set_input_files([_png(f"{i}.png") for i in range(5)])
    expect(page.locator("[data-images-error]")).to_have_text("Choose at most 4 images: you chose 5.")
    browser.check("too many images")

    # The reply box and the edit page count the same way, and warn near and past the limit;
    # a screen reader hears the count once typing pauses (static/js/counter.js).
    browser.goto(f"/posts/{worth_reading.pk}/")
    page.locator("textarea[data-counter=reply-counter]").fill("r" * 485)
    expect(page.locator("#reply-counter")).to_have_text("485 / 500 · 15 left")
    expect(page.locator("#reply-counter")).to_have_class(re.compile(r"\bnear\b"))
    expect(page.locator("#reply-counter-status")).to_have_text("15 characters left")
    browser.check("reply counter near the limit")
    mine = Post.objects.get(text="Two squares")
    browser.goto(f"/posts/{mine.pk}/edit/")
    expect(page.locator("#edit-counter")).to_have_text("11 / 500 · 489 left")
    page.locator("textarea[data-counter=edit-counter]").fill("e" * 501)
    expect(page.locator("#edit-counter")).to_have_text("501 / 500 · 1 too many")
    expect(page.locator("#edit-counter")).to_have_class(re.compile(r"\bover\b"))


def test_a_refused_post_keeps_its_text_and_says_so_by_the_field(browser: Browser) -> None:
    make_user(handle="writer", email="writer@example.com")
    page = browser.page
    browser.log_in("writer@example.com")
    page.get_by_label("Post text").fill("y" * 501)
    page.get_by_label("Content warning (optional)").fill("long one")
    browser.allowed_statuses = {400}
    with page.expect_navigation():
        page.get_by_role("button", name="Post", exact=True).click()
    browser.check("refused")
    error = page.locator("#id_text_error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("at most 500 characters")
    expect(page.get_by_label("Post text")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Content warning (optional)")).to_have_value("long one")


def test_unread_badge_appears_without_a_reload(browser: Browser) -> None:
    reader = make_user(handle="reader", email="reader@example.com")
    fan = make_user(handle="fan")
    post = make_post(reader, "Like me")
    page = browser.page
    browser.log_in("reader@example.com")
    expect(page.locator("#nav-unread")).to_have_text("")
    services.like_create(user=fan, post_id=post.pk)
    # The badge refreshes every 30 s and whenever the window regains focus.
    page.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(page.locator("#nav-unread .nav-badge")).to_have_text("1 unread")
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Home", "Explore", "Search", "Profile", "Bookmarks", "Follow requests", "Settings"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    browser.check("badge")


def test_keyboard_reaches_the_actions_with_a_visible_focus(browser: Browser) -> None:
    author = make_user(handle="author", email="author@example.com")
    make_post(author, "Tab to me")
    make_user(handle="keys", email="keys@example.com")
    page = browser.page
    browser.log_in("keys@example.com")
    browser.goto("/explore/")
    like = page.locator(".post", has_text="Tab to me").get_by_role("button", name="Like")
    like.focus()
    outline = like.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", outline
    page.keyboard.press("Enter")
    expect(page.locator(".post", has_text="Tab to me").get_by_role("button", name="Liked")).to_be_visible()
    browser.check("liked by keyboard")
