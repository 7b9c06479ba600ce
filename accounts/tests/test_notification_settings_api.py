"""The per-kind notification e-mail switches in the API (``/api/v1/me/``), with the settings
page's rules: the same service (``profile_update``), the same refusals, the same effect on the
e-mails that are sent."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import NOTIFICATION_KINDS, Profile
from integrations.services import api_key_issue
from outbox.models import OutboundEmail
from social import services as social_services
from social.models import Notification
from social.tests.factories import after_commit, make_user

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def _key_client(user, *scopes: str) -> APIClient:
    client = APIClient()
    token = api_key_issue(user=user, name=scopes[0], scopes=list(scopes)).token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_every_kind_reads_on_until_switched_off(user, user_api_client):
    body = user_api_client.get(ME).json()
    assert body["notification_email_preferences"] == dict.fromkeys(NOTIFICATION_KINDS, True)


def test_switching_one_kinds_emails_off_keeps_the_others_and_the_notifications(user, user_api_client):
    response = user_api_client.patch(ME, {"notification_email_preferences": {"like": False}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["notification_email_preferences"]["like"] is False
    assert response.json()["notification_email_preferences"]["follow"] is True
    assert response.json()["notification_preferences"]["like"] is True  # still on the site
    profile = Profile.objects.get(user=user)
    assert profile.wants_notification("like") and not profile.wants_notification_email("like")
    assert profile.wants_notification_email("follow")

    again = user_api_client.patch(ME, {"notification_email_preferences": {"like": True}}, format="json")
    assert again.json()["notification_email_preferences"]["like"] is True
    assert Profile.objects.get(user=user).wants_notification_email("like")


@pytest.mark.parametrize(
    "payload",
    [
        # The kind switched off in the same request...
        {"notification_preferences": {"like": False}, "notification_email_preferences": {"like": True}},
        # ...or already off.
        {"notification_email_preferences": {"follow": True}},
    ],
)
def test_emails_for_a_switched_off_kind_are_refused(user, user_api_client, payload):
    Profile.objects.filter(user=user).update(notification_preferences={"follow": False})

    response = user_api_client.patch(ME, payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "email_without_notification"
    assert list(error["fields"]) == ["notification_email_preferences"]
    profile = Profile.objects.get(user=user)  # nothing of the refused request was saved
    assert profile.notification_preferences == {"follow": False}
    assert profile.notification_email_preferences == {}


@pytest.mark.parametrize(
    "value", [{"poke": False}, {"like": "no"}, ["like"], "like"], ids=["unknown", "string", "list", "text"]
)
def test_malformed_switches_are_refused_in_the_error_shape(user, user_api_client, value):
    response = user_api_client.patch(ME, {"notification_email_preferences": value}, format="json")

    assert response.status_code == 400
    assert "notification_email_preferences" in response.json()["error"]["fields"]
    assert Profile.objects.get(user=user).notification_email_preferences == {}


def test_profile_read_reads_the_switches_and_profile_write_changes_them(user):
    # Reading needs profile:read; no other scope writes them (the plan allows two keys).
    reader = _key_client(user, "profile:read", "notifications:read", "posts:write")
    assert reader.get(ME).json()["notification_email_preferences"]["reply"] is True
    refused = reader.patch(ME, {"notification_email_preferences": {"reply": False}}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "missing_scope"
    assert Profile.objects.get(user=user).notification_email_preferences == {}

    writer = _key_client(user, "profile:write")
    assert (
        writer.patch(ME, {"notification_email_preferences": {"reply": False}}, format="json").status_code
        == 200
    )
    assert Profile.objects.get(user=user).notification_email_preferences == {"reply": False}
    assert writer.get(ME).status_code == 403  # writing does not read


def test_a_kind_switched_off_through_the_api_sends_no_email_but_others_still_do(smtp_server):
    ann = make_user(handle="ann", email="ann@example.com")
    client = APIClient()
    client.force_login(ann)
    response = client.patch(ME, {"notification_email_preferences": {"follow": False}}, format="json")
    assert response.status_code == 200

    bob = make_user(handle="bob")
    with after_commit():
        social_services.follow_create(follower=bob, followee=ann)

    assert not OutboundEmail.objects.filter(to=["ann@example.com"]).exists()
    assert smtp_server.messages == []
    assert Notification.objects.filter(recipient=ann, kind="follow").count() == 1  # still on the site

    # The switch is per kind: a like is still e-mailed.
    post = social_services.post_create(author=ann, text="Hello")
    with after_commit():
        social_services.like_create(user=bob, post_id=post.pk)
    assert OutboundEmail.objects.filter(to=["ann@example.com"]).count() == 1
    assert [m["Subject"] for m in smtp_server.messages] == ["@bob liked your post"]
