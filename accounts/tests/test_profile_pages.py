"""The profile and notification settings pages, the profile card partial and the selectors."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

from accounts.models import Profile, User
from accounts.selectors import user_get_by_handle
from accounts.services import user_deactivate
from accounts.services.profile import profile_update
from accounts.tests.factories import UserFactory
from accounts.tests.image_factories import image_upload
from config.errors import NotFoundError

pytestmark = pytest.mark.django_db

PROFILE = "/settings/profile/"
NOTIFICATIONS = "/settings/notifications/"


@pytest.fixture
def client_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": "Ann Example",
        "bio": "I like trains.",
        "website": "https://ann.example",
        "location": "Lyon",
        "timezone": "Europe/Paris",
    }
    data.update(overrides)
    return data


def test_settings_redirects_to_profile(client_in):
    response = client_in.get("/settings/")
    assert response.status_code == 302
    assert response["Location"] == PROFILE


@pytest.mark.parametrize("url", [PROFILE, NOTIFICATIONS, "/settings/account/"])
def test_pages_need_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_page_shows_current_values(user, client_in):
    profile_update(user=user, display_name="Shown Name", bio="Shown bio", timezone="Asia/Tokyo")
    response = client_in.get(PROFILE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Shown Name"' in html
    assert "Shown bio" in html
    assert '<option value="Asia/Tokyo" selected>' in html
    assert 'enctype="multipart/form-data"' in html


def test_profile_page_saves(user, client_in):
    response = client_in.post(PROFILE, form_data(is_private="on"), follow=True)
    assert response.status_code == 200
    assert "Your profile is saved." in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Ann Example"
    assert profile.bio == "I like trains."
    assert profile.website == "https://ann.example"
    assert profile.location == "Lyon"
    assert profile.timezone == "Europe/Paris"
    assert profile.is_private is True


def test_profile_page_uploads_and_removes_avatar(user, client_in):
    response = client_in.post(PROFILE, form_data(avatar=image_upload()))
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert profile.avatar and profile.avatar_small
    assert profile.avatar.width == 400 and profile.avatar_small.width == 96
    assert profile.avatar.url in client_in.get(PROFILE).content.decode()

    response = client_in.post(PROFILE, form_data(remove_avatar="on"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert not profile.avatar and not profile.avatar_small


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bio": "x" * 301}, "Ensure this value has at most 300 characters"),
        ({"website": "javascript:alert(1)"}, "Enter a valid"),
        ({"website": "ftp://files.example"}, "Enter a valid http:// or https:// address."),
        ({"timezone": "Nowhere/Special"}, "Unknown time zone"),
        ({"display_name": "n" * 51}, "at most 50 characters"),
        ({"avatar": image_upload("x.jpg", data=b"just some text, honest")}, "not an image"),
    ],
)
def test_profile_page_shows_errors_and_saves_nothing(user, client_in, overrides, message):
    response = client_in.post(PROFILE, form_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "" and profile.timezone == "UTC" and not profile.avatar


def test_profile_page_refuses_oversized_avatar(user, client_in, settings):
    settings.AVATAR_MAX_BYTES = 20_000
    big = image_upload(data=b"\xff\xd8" + b"\0" * 30_000)
    response = client_in.post(PROFILE, form_data(avatar=big))
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert not Profile.objects.get(user=user).avatar


def test_profile_page_only_ever_edits_the_signed_in_user(user, other_user, client_in):
    # Smuggled identifiers are ignored: the form has no user field at all.
    client_in.post(PROFILE, form_data(user=other_user.pk, handle=other_user.handle, bio="mine"))
    assert Profile.objects.get(user=other_user).bio == ""
    assert Profile.objects.get(user=user).bio == "mine"


def test_notifications_page_saves_preferences(user, client_in):
    response = client_in.get(NOTIFICATIONS)
    assert response.status_code == 200
    assert "Someone likes my post" in response.content.decode()
    # Unchecked boxes are not sent: like and repost switched off, e-mails off.
    response = client_in.post(
        NOTIFICATIONS, {"follow": "on", "follow_request": "on", "reply": "on", "mention": "on"}, follow=True
    )
    assert "Your notification settings are saved." in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.wants_notification("follow") is True
    assert profile.wants_notification("like") is False
    assert profile.wants_notification("repost") is False
    assert profile.email_notifications is False


def test_notifications_page_has_both_switches_for_every_kind(user, client_in):
    html = client_in.get(NOTIFICATIONS).content.decode()
    for label in ("Someone accepts my follow request", "A moderator reviews my report"):
        assert label in html
    for kind in ("follow", "follow_accepted", "like", "report_reviewed"):
        assert f'name="{kind}"' in html and f'name="email_{kind}"' in html
    assert "Accepted follow requests" in html and "Reviews of your reports" in html


def test_notifications_page_saves_which_kinds_are_emailed(user, client_in):
    on = {kind: "on" for kind in ("follow", "like", "reply", "follow_accepted", "report_reviewed")}
    emails = {"email_follow": "on", "email_reply": "on", "email_report_reviewed": "on"}
    response = client_in.post(NOTIFICATIONS, {**on, **emails, "email_notifications": "on"}, follow=True)
    assert "Your notification settings are saved." in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.wants_notification_email("follow") and profile.wants_notification_email("reply")
    assert profile.wants_notification_email("report_reviewed")
    assert not profile.wants_notification_email("like")  # notified on the site, not by e-mail
    assert not profile.wants_notification_email("follow_accepted")
    assert profile.wants_notification("follow_accepted") and not profile.wants_notification("mention")
    # The page shows what was saved.
    html = client_in.get(NOTIFICATIONS).content.decode()
    assert 'name="email_reply" id="id_email_reply" checked' in html
    assert 'name="email_like" id="id_email_like" checked' not in html


def test_notifications_page_refuses_emails_for_a_kind_switched_off(user, client_in):
    response = client_in.post(
        NOTIFICATIONS, {"follow": "on", "email_like": "on", "email_notifications": "on"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "switch on “Someone likes my post”" in html
    # Nothing was saved, and the page keeps what was ticked.
    profile = Profile.objects.get(user=user)
    assert profile.notification_preferences == {} and profile.notification_email_preferences == {}
    assert 'name="email_like" id="id_email_like" checked' in html


def test_switching_follow_accepted_off_stops_its_notification(user, client_in):
    from social import services
    from social.models import Notification
    from social.tests.factories import make_user

    everything_but = {
        kind: "on" for kind in ("follow", "follow_request", "like", "reply", "mention", "repost")
    }
    client_in.post(NOTIFICATIONS, everything_but)
    user = User.objects.get(pk=user.pk)  # as the accepting request loads them
    owner = make_user(handle="owner", private=True)
    services.follow_create(follower=user, followee=owner)
    services.follow_request_accept(owner=owner, requester=user)
    assert not Notification.objects.filter(recipient=user, kind="follow_accepted").exists()


# --- Profile creation, selectors and the card ------------------------------------------------


def test_every_new_user_gets_a_profile():
    user = User.objects.create_user(email="new@example.com", handle="newbie", password="x" * 12)
    assert Profile.objects.filter(user=user).exists()


def test_user_get_by_handle_is_case_insensitive_and_hides_inactive():
    someone = UserFactory(handle="CaseUser")
    assert user_get_by_handle(handle="caseuser") == someone
    assert user_get_by_handle(handle="@CASEUSER") == someone
    user_deactivate(user=someone, reason="test")
    with pytest.raises(NotFoundError):
        user_get_by_handle(handle="caseuser")
    with pytest.raises(NotFoundError):
        user_get_by_handle(handle="never_existed")


def test_profile_card_shows_the_public_profile(django_assert_num_queries):
    someone = UserFactory(handle="carded")
    profile_update(
        user=someone,
        display_name="Card <Name>",
        bio="Bio with <script>alert(1)</script>",
        website="https://card.example/path/",
        location="Oslo",
        is_private=True,
    )
    profile_user = user_get_by_handle(handle="carded")
    with django_assert_num_queries(0):
        html = render_to_string("accounts/_profile_card.html", {"profile_user": profile_user})
    assert "Card &lt;Name&gt;" in html
    assert "@carded" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="https://card.example/path/" rel="nofollow noopener ugc"' in html
    assert "card.example/path<" in html
    assert "Oslo" in html
    assert "Private" in html
    assert "avatar-default.svg" in html


def test_sign_up_creates_the_profile():
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "fresh@example.com",
            "username": "fresh_person",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(handle="fresh_person")
    profile = Profile.objects.get(user=user)
    assert profile.timezone == "UTC" and profile.is_private is False


def test_profile_page_cleans_a_display_name_pretending_to_be_someone_else(user, client_in):
    response = client_in.post(PROFILE, form_data(display_name="\u202eadmin\u200b"))
    assert response.status_code == 302
    assert Profile.objects.get(user=user).display_name == "admin"


def _ticked(html: str) -> dict[str, str]:
    """What a browser sends for the page's form as shown: every ticked checkbox, as "on"."""
    return {name: "on" for name in re.findall(r'<input type="checkbox" name="(\w+)"[^>]*\bchecked>', html)}


def test_notifications_page_shows_the_emails_of_a_kind_switched_off_unticked(user, client_in):
    profile_update(user=user, notification_preferences={"like": False})

    html = client_in.get(NOTIFICATIONS).content.decode()

    assert 'name="like" id="id_like" checked' not in html
    assert 'name="email_like" id="id_email_like" checked' not in html
    assert 'name="email_reply" id="id_email_reply" checked' in html  # the others as they were


def test_notifications_page_saves_after_unticking_a_kind_and_its_emails(user, client_in):
    profile_update(user=user, notification_preferences={"like": False})
    shown = _ticked(client_in.get(NOTIFICATIONS).content.decode())
    shown.pop("repost")  # untick "Someone reposts my post" and its e-mails
    shown.pop("email_repost")

    response = client_in.post(NOTIFICATIONS, shown)

    assert response.status_code == 302
    assert "Your notification settings are saved." in client_in.get(NOTIFICATIONS).content.decode()
    profile = Profile.objects.get(user=user)
    assert not profile.wants_notification("repost") and not profile.wants_notification("like")
    assert profile.wants_notification_email("reply")
