"""Pages show times in the signed-in user's time zone, kept in the session (no profile query)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services.profile import profile_update
from accounts.tests.factories import UserFactory
from social import services as social_services

pytestmark = pytest.mark.django_db

PROFILE_LOAD = 'FROM "accounts_profile" WHERE "accounts_profile"."user_id" = '


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post_page(client: Client, post_id: int) -> str:
    response = client.get(reverse("social:post", args=[post_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_post_page_shows_times_in_the_users_zone(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        profile_update(user=user, timezone="Asia/Tokyo")
    post = social_services.post_create(author=user, text="Hello from Tokyo")

    assert "+09:00" in _post_page(_signed_in(user), post.pk)
    # Signed out, the same page is in UTC.
    assert "+00:00" in _post_page(Client(), post.pk)


def test_changing_the_zone_reaches_every_session_of_the_user(django_capture_on_commit_callbacks):
    user = UserFactory()
    post = social_services.post_create(author=user, text="Hello")
    laptop, phone = _signed_in(user), _signed_in(user)
    assert "+00:00" in _post_page(phone, post.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.post(
            reverse("accounts:profile_edit"),
            {"display_name": "Ann", "bio": "", "website": "", "location": "", "timezone": "America/New_York"},
        )
    assert response.status_code == 302

    # Eastern time, standard (-05:00) or daylight (-04:00) depending on when the post was made.
    for client in (laptop, phone):
        page = _post_page(client, post.pk)
        assert "-05:00" in page or "-04:00" in page


def test_signed_in_requests_do_not_load_the_profile_for_the_zone():
    user = UserFactory()
    client = _signed_in(user)
    client.get(reverse("social:home"))  # a session from before: the zone is stored once

    with CaptureQueriesContext(connection) as api:
        assert client.get("/api/v1/notifications/unread-count/").status_code == 200
    assert not [q for q in api.captured_queries if PROFILE_LOAD in q["sql"]]
