"""Active sessions (allauth.usersessions): listed with device, IP and last seen; each revocable."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import FIREFOX_LINUX, SAFARI_IPHONE, login

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    return client.get("/settings/security/").status_code == 200


@pytest.fixture
def laptop(user) -> Client:
    client = Client(HTTP_USER_AGENT=FIREFOX_LINUX, REMOTE_ADDR="203.0.113.10")
    login(client, user.email)
    return client


@pytest.fixture
def phone(user) -> Client:
    client = Client(HTTP_USER_AGENT=SAFARI_IPHONE, REMOTE_ADDR="198.51.100.20")
    login(client, user.email)
    return client


def _session_of(client: Client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def test_sessions_page_lists_device_ip_and_last_seen(laptop, phone):
    response = laptop.get("/accounts/sessions/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="sidebar"' in body
    assert "Firefox on Linux" in body and "Safari on iOS" in body
    assert "203.0.113.10" in body and "198.51.100.20" in body
    assert "Last seen" in body
    assert body.count("/settings/sessions/") == 2  # a sign-out button per session


def test_ending_one_session_signs_that_device_out_only(laptop, phone, user):
    target = _session_of(phone)

    response = laptop.post(f"/settings/sessions/{target.pk}/end/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sessions/"
    assert not _signed_in(phone)
    assert _signed_in(laptop)
    assert not UserSession.objects.filter(pk=target.pk).exists()
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.SESSION_REVOKED)
    assert event.detail == {"ip": "198.51.100.20", "device": "Safari on iOS"}
    assert event.ip_address == "203.0.113.10"  # who did it


def test_ending_the_current_session_signs_out(laptop):
    current = _session_of(laptop)
    response = laptop.post(f"/settings/sessions/{current.pk}/end/")
    assert response.status_code == 302
    assert not _signed_in(laptop)


def test_another_users_session_cannot_be_ended(laptop, other_user):
    stranger = Client()
    login(stranger, other_user.email)
    theirs = _session_of(stranger)

    response = laptop.post(f"/settings/sessions/{theirs.pk}/end/", follow=True)

    assert response.status_code == 200
    assert "does not exist" in response.content.decode()
    assert _signed_in(stranger)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SESSION_REVOKED).exists()


def test_ending_a_session_needs_post_and_login(laptop, client):
    session = _session_of(laptop)
    assert laptop.get(f"/settings/sessions/{session.pk}/end/").status_code == 405
    response = client.post(f"/settings/sessions/{session.pk}/end/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert _signed_in(laptop)


def test_sign_out_other_sessions(laptop, phone, user):
    third = Client(REMOTE_ADDR="192.0.2.30")
    login(third, user.email)

    response = laptop.post("/accounts/sessions/")

    assert response.status_code == 302
    assert _signed_in(laptop)
    assert not _signed_in(phone)
    assert not _signed_in(third)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.SESSION_REVOKED).count() == 2


def test_deactivating_a_user_ends_their_sessions(laptop, phone, user):
    from accounts.services import user_deactivate

    user_deactivate(user=user, reason="test")

    assert not _signed_in(laptop)
    assert not _signed_in(phone)


def test_last_seen_is_written_at_most_once_a_minute_per_session(laptop):
    from accounts.middleware import SESSION_KEY

    laptop.get("/settings/security/")  # records the activity
    first = _session_of(laptop).last_seen_at
    laptop.get("/settings/security/", REMOTE_ADDR="203.0.113.99")
    # Within the minute: nothing is written, not even the new address.
    assert _session_of(laptop).ip == "203.0.113.10"
    assert _session_of(laptop).last_seen_at == first

    session = laptop.session
    session[SESSION_KEY] = float(session[SESSION_KEY]) - 61  # a minute has passed
    session.save()
    laptop.get("/settings/security/", REMOTE_ADDR="203.0.113.99")
    refreshed = _session_of(laptop)
    assert refreshed.ip == "203.0.113.99"
    assert refreshed.last_seen_at > first


def test_the_current_session_is_marked_and_the_other_is_not(laptop, phone):
    body = laptop.get("/accounts/sessions/").content.decode()
    rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    current = [row for row in rows if ">Current<" in row]
    assert len(rows) == 2 and len(current) == 1
    assert "Firefox on Linux" in current[0]  # the laptop's own row


@pytest.mark.parametrize("ended", ["expired", "gone from the store"])
def test_an_ended_session_is_not_listed_and_its_row_is_purged(laptop, phone, ended):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    target = _session_of(phone)
    stored = Session.objects.filter(session_key=target.session_key)
    if ended == "expired":
        stored.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    else:
        stored.delete()

    body = laptop.get("/accounts/sessions/").content.decode()

    assert "Safari on iOS" not in body and "198.51.100.20" not in body
    assert "Firefox on Linux" in body
    assert not UserSession.objects.filter(pk=target.pk).exists()
    assert UserSession.objects.filter(session_key=laptop.session.session_key).exists()
