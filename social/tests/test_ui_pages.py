"""What the redesigned pages show (issue 16, items 8-13): the composer's errors and limits,
the navigation's unread badge, profile counts, first-run suggestions, discovery panels,
the follow-requests page with its toasts, the security log in words, and the icon sprite."""

from __future__ import annotations

import json
import re

import pytest
from allauth.mfa.models import Authenticator

from accounts.models import SecurityEvent
from accounts.services import security_event_record
from social import services
from social.icons import SPRITE, sprite_build
from social.models import Follow, Mute, Notification, Post
from social.tests.factories import make_follow, make_post, make_user, png_upload

pytestmark = pytest.mark.django_db


def _field_block(html: str, field: str) -> str:
    """The composer's ``<div class="field">`` that holds the input named ``field``."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.S):
        if f'name="{field}"' in block:
            return block
    raise AssertionError(f"no field {field}")


def test_composer_shows_every_option_and_the_plans_limit(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "<details" not in html.split('class="card compose"')[1].split("</section>")[0]
    assert 'data-limit="500"' in html and "Up to 500 characters" in html
    assert "Images (up to 4)" in html
    for label in ("Who can see it", "Content warning (optional)", "Image descriptions"):
        assert label in html
    assert "js/composer.js" in html


def test_composer_error_is_by_its_field_and_the_rest_is_kept(client, user):
    client.force_login(user)
    response = client.post(
        "/",
        {
            "text": "five pictures",
            "visibility": "followers",
            "content_warning": "lots of cats",
            "alt_texts": "one\ntwo",
            "images": [png_upload(f"p{i}.png") for i in range(5)],
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    images = _field_block(html, "images")
    assert "at most 4" in images.lower() or "up to 4" in images.lower()
    assert "Your 5 images were not posted: choose them again." in images
    assert 'aria-invalid="true"' in images
    # What the browser can be given back is given back.
    assert "five pictures</textarea>" in html
    assert 'value="lots of cats"' in html
    assert '<option value="followers" selected>' in html
    assert "one\ntwo</textarea>" in html
    assert not Post.objects.exists()


def test_composer_text_error_is_announced_with_the_field(client, user):
    client.force_login(user)
    html = client.post("/", {"text": "x" * 501, "visibility": "public"}).content.decode()
    text = _field_block(html, "text")
    assert 'aria-describedby="id_text_error"' in text and 'id="id_text_error"' in text
    assert "at most 500 characters" in text


def test_unread_badge_is_polled_and_counts_unread(client, user, other_user):
    client.force_login(user)
    home = client.get("/").content.decode()
    assert 'hx-get="/notifications/badge/"' in home and "every 30s" in home
    assert client.get("/notifications/badge/").content.strip() == b""
    post = make_post(user, "like this")
    services.like_create(user=other_user, post_id=post.pk)
    badge = client.get("/notifications/badge/")
    assert b"1<span" in badge.content and b"unread" in badge.content
    assert badge["Cache-Control"] == "no-store"
    client.logout()
    assert client.get("/notifications/badge/").status_code == 204


def test_navigation_links_bookmarks_and_follow_requests(client, user):
    client.force_login(user)
    html = client.get("/explore/").content.decode()
    assert 'href="/bookmarks/"' in html and 'href="/follow-requests/"' in html
    assert 'href="/explore/" aria-current="page"' in html
    assert "img/icons" in html and "#outline-home" in html


def test_profile_shows_its_counts(client, user, other_user):
    author = make_user(handle="counted")
    make_follow(user, author)
    make_follow(other_user, author)
    make_follow(author, user)
    make_post(author, "one")
    deleted = make_post(author, "two")
    services.post_delete(user=author, post_id=deleted.pk)
    html = client.get("/@counted").content.decode()
    assert "<strong>1</strong> post<" in html
    assert "<strong>2</strong> followers" in html
    assert "<strong>1</strong> following" in html


def test_a_new_accounts_empty_home_suggests_people_and_posts(client, user):
    writer = make_user(handle="writer")
    make_post(writer, "A post worth reading")
    make_user(handle="silent")  # never posted: not suggested
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Your home feed is empty" in html
    assert "People to follow" in html and "@writer" in html and "@silent" not in html
    assert "Posts to read" in html and "A post worth reading" in html
    # Followed: the feed has posts and the first-run panel goes.
    make_follow(user, writer)
    html = client.get("/").content.decode()
    assert "Your home feed is empty" not in html and "A post worth reading" in html


def test_explore_shows_who_to_follow_and_trending_tags(client, user):
    popular, followed = make_user(handle="popular"), make_user(handle="followed")
    make_follow(make_user(), popular)
    make_post(popular, "about #django and #htmx")
    make_post(followed, "more #django")
    make_follow(user, followed)
    client.force_login(user)
    html = client.get("/explore/").content.decode()
    panel = html.split("Who to follow")[1].split("</section>")[0]
    assert "@popular" in panel and "@followed" not in panel
    trending = html.split("Trending this week")[1].split("</section>")[0]
    assert trending.index("django") < trending.index("htmx")
    assert "2 posts" in trending
    client.logout()
    assert "Who to follow" not in client.get("/explore/").content.decode()


def test_follow_requests_page_answers_in_place_with_a_toast(client, user):
    user.profile.is_private = True
    user.profile.save()
    asker, other = make_user(handle="asker"), make_user(handle="other")
    services.follow_create(follower=asker, followee=user)
    services.follow_create(follower=other, followee=user)
    client.force_login(user)
    assert b"@asker" in client.get("/follow-requests/").content
    response = client.post("/@asker/accept/", {"then": "row"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast == {"level": "success", "message": "@asker follows you now."}
    assert Follow.objects.filter(follower=asker, followee=user).exists()
    response = client.post("/@other/reject/", {"then": "row"}, HTTP_HX_REQUEST="true")
    assert "declined" in json.loads(response["HX-Trigger"])["toast"]["message"]
    assert b"No one is waiting" in client.get("/follow-requests/").content


def test_unmute_and_unblock_in_place_confirm_with_a_toast(client, user, other_user):
    services.mute_create(muter=user, muted=other_user)
    client.force_login(user)
    response = client.post(f"/@{other_user.handle}/mute/", {"then": "row"}, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == f"You unmuted @{other_user.handle}."
    assert not Mute.objects.exists()
    services.block_create(blocker=user, blocked=other_user)
    response = client.post(f"/@{other_user.handle}/block/", {"then": "row"}, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == f"You unblocked @{other_user.handle}."


def test_follow_from_a_suggestion_answers_with_the_button_and_a_toast(client, user, other_user):
    client.force_login(user)
    response = client.post(f"/@{other_user.handle}/follow/", HTTP_HX_REQUEST="true")
    assert b"Unfollow" in response.content
    assert json.loads(response["HX-Trigger"])["toast"]["message"] == f"You follow @{other_user.handle}."


def test_empty_states_say_what_to_do(client, user):
    client.force_login(user)
    assert b"Choose Save under any post" in client.get("/bookmarks/").content
    assert b"When someone follows you" in client.get("/notifications/").content
    assert b"Write your first post" in client.get(f"/@{user.handle}").content
    assert b"make your account private" in client.get("/follow-requests/").content


def test_security_log_names_two_factor_methods_in_words(client, user):
    security_event_record(
        user=user,
        kind=SecurityEvent.Kind.MFA_ENABLED,
        request=None,
        detail={"method": Authenticator.Type.TOTP},
    )
    client.force_login(user)
    html = client.get("/settings/security/").content.decode()
    table = html.split("<tbody>")[1]
    assert "authenticator app" in table and "totp" not in table


def test_destructive_actions_ask_first(client, user):
    client.force_login(user)
    post = make_post(user, "mine")
    assert b"data-confirm=" in client.get(f"/posts/{post.pk}/").content
    assert b"data-confirm=" in client.get("/settings/account/").content
    other = make_user(handle="someone")
    assert b'data-confirm="Block @someone' in client.get(f"/@{other.handle}").content


def test_icon_sprite_is_the_packages_icons():
    assert SPRITE.read_text(encoding="utf-8") == sprite_build(), "run: python -m social.icons"


def test_accepting_a_follow_request_tells_the_requester(client, user):
    owner = make_user(handle="owner", private=True)
    services.follow_create(follower=user, followee=owner)
    services.follow_request_accept(owner=owner, requester=user)
    client.force_login(user)
    page = client.get("/notifications/").content.decode()
    assert "accepted your follow request" in page and "/@owner" in page
    assert Notification.objects.filter(
        recipient=user, actor=owner, kind=Notification.Kind.FOLLOW_ACCEPTED
    ).exists()


@pytest.mark.parametrize("enabled", [True, False])
def test_pricing_and_billing_links_only_when_billing_is_on(client, user, settings, enabled):
    settings.BILLING_ENABLED = enabled
    signed_out = client.get("/explore/").content.decode()
    client.force_login(user)
    settings_page = client.get("/settings/profile/").content.decode()
    for html in (signed_out, settings_page):
        assert ('href="/billing/pricing/"' in html or 'href="/billing/"' in html) is enabled
    assert (">Pricing<" in signed_out) is enabled
    assert (">Billing<" in settings_page) is enabled


def test_reply_box_and_edit_page_count_against_the_plans_limit(client, user, other_user):
    theirs = make_post(other_user, "reply to me")
    mine = make_post(user, "edit me")
    client.force_login(user)
    reply = client.get(f"/posts/{theirs.pk}/").content.decode()
    edit = client.get(f"/posts/{mine.pk}/edit/").content.decode()
    for html, counter in ((reply, "reply-counter"), (edit, "edit-counter")):
        assert f'data-counter="{counter}"' in html and 'data-limit="500"' in html
        assert f'id="{counter}"' in html and "Up to 500 characters" in html
        assert "js/counter.js" in html
    # The edit page's errors stay by their field, the text kept.
    response = client.post(f"/posts/{mine.pk}/edit/", {"text": "x" * 501, "content_warning": ""})
    assert response.status_code == 400
    assert "at most 500 characters" in _field_block(response.content.decode(), "text")
    assert Post.objects.get(pk=mine.pk).text == "edit me"
