"""GET/PATCH /api/v1/me/ and GET /api/v1/users/<handle>."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Profile
from accounts.services import user_deactivate
from accounts.services.profile import profile_update
from accounts.tests.factories import UserFactory
from accounts.tests.image_factories import gps_exif, image_bytes, image_upload

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert body["error"]["code"] == code
    return body["error"]


# --- GET /me ---------------------------------------------------------------------------------


def test_me_returns_own_profile_and_settings(user, user_api_client):
    profile_update(user=user, display_name="Ann", bio="Hello", timezone="Europe/Paris")
    response = user_api_client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["handle"] == user.handle
    assert body["email"] == user.email
    assert body["display_name"] == "Ann"
    assert body["bio"] == "Hello"
    assert body["timezone"] == "Europe/Paris"
    assert body["is_private"] is False
    assert body["avatar_url"].startswith("http://testserver/static/")
    assert body["notification_preferences"] == {
        "follow": True,
        "follow_request": True,
        "follow_accepted": True,
        "like": True,
        "reply": True,
        "mention": True,
        "repost": True,
        "report_reviewed": True,
    }
    assert body["email_notifications"] is True


def test_me_requires_sign_in(api_client):
    assert_error(api_client.get(ME), 401, "not_authenticated")
    assert_error(api_client.patch(ME, {"bio": "x"}), 401, "not_authenticated")


def test_me_query_count_is_small_and_constant(user, user_api_client, django_assert_num_queries):
    user_api_client.get(ME)  # the first request registers the session (allauth.usersessions)
    # The signed-in user (auth; the time zone comes from the session), then user + profile.
    with django_assert_num_queries(2):
        assert user_api_client.get(ME).status_code == 200
    profile_update(user=user, avatar=image_upload(), bio="More", notification_preferences={"like": False})
    with django_assert_num_queries(2):
        assert user_api_client.get(ME).status_code == 200


# --- PATCH /me -------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(user, user_api_client):
    profile_update(user=user, display_name="Before", location="Paris")
    response = user_api_client.patch(
        ME,
        {
            "display_name": "  After  ",
            "bio": "Line one\nLine two",
            "website": "https://example.org/me",
            "is_private": True,
            "timezone": "America/New_York",
            "notification_preferences": {"like": False},
            "email_notifications": False,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["display_name"] == "After"
    assert body["location"] == "Paris"
    assert body["notification_preferences"]["like"] is False
    assert body["notification_preferences"]["reply"] is True
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "After"
    assert profile.bio == "Line one\nLine two"
    assert profile.website == "https://example.org/me"
    assert profile.is_private is True
    assert profile.timezone == "America/New_York"
    assert profile.wants_notification("like") is False
    assert profile.wants_notification("follow") is True
    assert profile.email_notifications is False
    assert profile.location == "Paris"


def test_bio_is_stored_as_plain_text_without_control_characters(user, user_api_client):
    response = user_api_client.patch(ME, {"bio": "hi\u202e there\x07\n\n\n\nbye <b>x</b>"}, format="json")
    assert response.status_code == 200
    # Markup stays as typed text (templates escape it); control and bidi characters go.
    assert Profile.objects.get(user=user).bio == "hi there\n\nbye <b>x</b>"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"bio": "x" * 301}, "bio"),
        ({"display_name": "x" * 51}, "display_name"),
        ({"website": "not a url"}, "website"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"website": "ftp://example.com"}, "website"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"is_private": "perhaps"}, "is_private"),
        ({"notification_preferences": {"poke": True}}, "notification_preferences"),
        ({"notification_preferences": {"like": "yes"}}, "notification_preferences"),
        ({"notification_preferences": ["like"]}, "notification_preferences"),
    ],
)
def test_patch_refuses_bad_input(user, user_api_client, payload, field):
    error = assert_error(user_api_client.patch(ME, payload, format="json"), 400, "invalid")
    assert field in error["fields"]
    profile = Profile.objects.get(user=user)
    assert profile.bio == "" and profile.website == "" and profile.timezone == "UTC"


def test_patch_ignores_fields_that_are_not_editable(user, user_api_client, other_user):
    response = user_api_client.patch(
        ME,
        {"handle": "hijack", "email": "evil@example.com", "user": other_user.pk, "bio": "ok"},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.handle != "hijack"
    assert user.email != "evil@example.com"
    assert Profile.objects.get(user=other_user).bio == ""
    assert Profile.objects.get(user=user).bio == "ok"


def test_patch_cannot_touch_another_users_profile(user, other_user, user_api_client):
    # There is no route to anyone else's profile: /users/<handle> is read-only.
    response = user_api_client.patch(f"/api/v1/users/{other_user.handle}/", {"bio": "pwned"}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert Profile.objects.get(user=other_user).bio == ""


def test_patch_with_csrf_enforced_needs_the_token(user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    error = assert_error(client.patch(ME, {"bio": "x"}, format="json"), 403, "permission_denied")
    assert "CSRF" in error["message"]


# --- Avatar ----------------------------------------------------------------------------------


def test_avatar_upload_makes_two_clean_square_sizes(user, user_api_client):
    upload = image_upload(data=image_bytes(size=(1200, 900), exif=gps_exif()))
    response = user_api_client.patch(ME, {"avatar": upload}, format="multipart")
    assert response.status_code == 200, response.content
    profile = Profile.objects.get(user=user)
    assert profile.avatar.name.startswith(f"avatars/{user.pk}/")
    with profile.avatar.open("rb") as f:
        large = Image.open(io.BytesIO(f.read()))
    with profile.avatar_small.open("rb") as f:
        raw_small = f.read()
        small = Image.open(io.BytesIO(raw_small))
    assert large.size == (400, 400)
    assert small.size == (96, 96)
    assert not large.getexif() and not small.getexif()
    assert b"SecretPhone" not in raw_small
    body = response.json()
    assert body["avatar_url"] == f"http://testserver{profile.avatar_small.url}"
    assert body["avatar_large_url"] == f"http://testserver{profile.avatar.url}"


def test_new_avatar_replaces_and_deletes_the_old_files(
    user, user_api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.patch(ME, {"avatar": image_upload()}, format="multipart")
    old = Profile.objects.get(user=user)
    old_names = [old.avatar.name, old.avatar_small.name]
    storage = old.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = user_api_client.patch(
            ME, {"avatar": image_upload("b.png", "image/png", fmt="PNG")}, format="multipart"
        )
    assert response.status_code == 200
    new = Profile.objects.get(user=user)
    assert new.avatar.name.endswith(".png")
    assert all(not storage.exists(name) for name in old_names)
    assert storage.exists(new.avatar.name) and storage.exists(new.avatar_small.name)
    # Every upload is at new URLs: a cached copy of an earlier avatar is never shown again.
    seen = {*old_names, new.avatar.name, new.avatar_small.name}
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            user_api_client.patch(ME, {"avatar": image_upload()}, format="multipart")
        latest = Profile.objects.get(user=user)
        assert latest.avatar.name not in seen and latest.avatar_small.name not in seen
        seen |= {latest.avatar.name, latest.avatar_small.name}


def test_avatar_null_removes_it(user, user_api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user_api_client.patch(ME, {"avatar": image_upload()}, format="multipart")
    profile = Profile.objects.get(user=user)
    name, storage = profile.avatar.name, profile.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = user_api_client.patch(ME, {"avatar": None}, format="json")
    assert response.status_code == 200
    assert response.json()["avatar_url"].startswith("http://testserver/static/")
    profile.refresh_from_db()
    assert not profile.avatar and not profile.avatar_small
    assert not storage.exists(name)


def test_fake_image_is_refused(user, user_api_client):
    fake = image_upload("evil.jpg", data=b"<?php system($_GET['c']); ?>" * 10)
    error = assert_error(
        user_api_client.patch(ME, {"avatar": fake}, format="multipart"), 400, "invalid_image"
    )
    assert "not an image" in error["message"]
    assert not Profile.objects.get(user=user).avatar


def test_oversized_avatar_is_refused(user, user_api_client, settings):
    settings.AVATAR_MAX_BYTES = 50_000
    big = image_upload(data=image_bytes(size=(300, 300)) + b"\0" * 60_000)
    error = assert_error(user_api_client.patch(ME, {"avatar": big}, format="multipart"), 400, "invalid_image")
    assert "too large" in error["message"]
    assert not Profile.objects.get(user=user).avatar


def test_bad_avatar_leaves_other_fields_unchanged(user, user_api_client):
    fake = image_upload("x.png", data=b"nope")
    response = user_api_client.patch(ME, {"avatar": fake, "bio": "new bio"}, format="multipart")
    assert_error(response, 400, "invalid_image")
    assert Profile.objects.get(user=user).bio == ""


# --- GET /users/<handle> ---------------------------------------------------------------------


def test_public_profile_by_handle_in_any_case(api_client):
    someone = UserFactory(handle="MixedCase")
    profile_update(user=someone, display_name="Mixed", bio="Public bio", website="https://m.example")
    response = api_client.get("/api/v1/users/mixedcase/")
    assert response.status_code == 200
    body = response.json()
    assert body["handle"] == "MixedCase"
    assert body["display_name"] == "Mixed"
    assert body["bio"] == "Public bio"
    assert body["website"] == "https://m.example"
    # Nothing private leaks.
    for private in ("email", "timezone", "notification_preferences", "email_notifications"):
        assert private not in body


def test_private_account_still_shows_its_card(api_client):
    someone = UserFactory()
    profile_update(user=someone, is_private=True, display_name="Shy", bio="Ask first")
    body = api_client.get(f"/api/v1/users/{someone.handle}/").json()
    assert body["is_private"] is True
    assert body["display_name"] == "Shy"
    assert body["bio"] == "Ask first"


def test_unknown_and_deactivated_users_are_404(api_client):
    gone = UserFactory()
    user_deactivate(user=gone, reason="test")
    assert_error(api_client.get(f"/api/v1/users/{gone.handle}/"), 404, "not_found")
    assert_error(api_client.get("/api/v1/users/nobody_here/"), 404, "not_found")


def test_user_detail_query_count_is_constant(api_client, django_assert_num_queries):
    someone = UserFactory()
    profile_update(user=someone, display_name="Q", avatar=image_upload())
    with django_assert_num_queries(1):
        assert api_client.get(f"/api/v1/users/{someone.handle}/").status_code == 200


# --- API keys --------------------------------------------------------------------------------


def test_api_key_scopes_on_me(user):
    from rest_framework.test import APIClient

    from integrations.services import api_key_issue

    reader = APIClient()
    reader.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_issue(user=user, name='r', scopes=['profile:read']).token}"
    )
    assert reader.get(ME).status_code == 200
    assert reader.get(f"/api/v1/users/{user.handle}/").status_code == 200
    assert_error(reader.patch(ME, {"bio": "via key"}, format="json"), 403, "missing_scope")

    writer = APIClient()
    token = api_key_issue(user=user, name="w", scopes=["profile:write"]).token
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert writer.patch(ME, {"bio": "via key"}, format="json").status_code == 200
    assert Profile.objects.get(user=user).bio == "via key"
    assert_error(writer.get(ME), 403, "missing_scope")


def test_display_name_loses_bidi_overrides_and_zero_width_characters(user, user_api_client):
    response = user_api_client.patch(ME, {"display_name": "\u202eadmin\u200b", "location": "Pa\u200bris"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "admin"
    profile = Profile.objects.get(user=user)
    assert (profile.display_name, profile.location) == ("admin", "Paris")


def test_website_and_time_zone_rules_come_from_the_model(user, user_api_client):
    response = user_api_client.patch(ME, {"website": "ftp://files.example", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["website"] == ["Enter a valid http:// or https:// address."]
    assert fields["timezone"] == ["Unknown time zone."]


def test_a_user_you_block_no_longer_gets_your_profile_card(user, other_user, user_api_client):
    from social.services import block_create

    path = f"/api/v1/users/{other_user.handle}/"
    assert user_api_client.get(path).status_code == 200
    block_create(blocker=other_user, blocked=user)

    response = user_api_client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert other_user.handle not in response.content.decode()
    # Anonymous visitors and the blocker themself still see the card.
    assert APIClient().get(path).status_code == 200
    own = APIClient()
    own.force_login(other_user)
    assert own.get(path).status_code == 200
