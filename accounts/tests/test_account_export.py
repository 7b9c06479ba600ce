"""Data export: GET /api/v1/me/export/ and the download button on /settings/account/."""

from __future__ import annotations

import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from rest_framework.test import APIClient

from accounts import lifecycle
from accounts.models import SecurityEvent
from accounts.services import security_event_record
from accounts.services.profile import profile_update
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/me/export/"


@pytest.fixture
def two_users(user, other_user):
    profile_update(user=user, display_name="Exporting Ellie", bio="my own bio", timezone="Europe/Berlin")
    profile_update(user=other_user, display_name="Other Oscar", bio="not yours")
    security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED, ip_address="203.0.113.7")
    security_event_record(user=other_user, kind=SecurityEvent.Kind.LOGIN, ip_address="198.51.100.99")
    return user, other_user


def signed_in(user) -> APIClient:
    client = APIClient()
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD}, format="multipart"
    )
    assert response.status_code == 302
    return client


def test_export_is_a_json_attachment_of_the_users_data(two_users):
    user, other = two_users
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = APIClient()
    client.force_login(user)
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith(f'attachment; filename="relay-export-{user.handle}-')
    assert response["Cache-Control"] == "no-store"
    raw = response.content.decode()
    data = json.loads(raw)

    accounts = data["accounts"]
    assert accounts["user"]["email"] == user.email
    assert accounts["user"]["handle"] == user.handle
    assert accounts["profile"]["display_name"] == "Exporting Ellie"
    assert accounts["profile"]["bio"] == "my own bio"
    assert accounts["profile"]["timezone"] == "Europe/Berlin"
    assert accounts["email_addresses"] == [{"email": user.email, "verified": True, "primary": True}]
    kinds = [event["kind"] for event in accounts["security_log"]]
    assert "password_changed" in kinds and "data_exported" in kinds
    assert accounts["two_factor"][0]["type"] == "totp"
    # Every registered app has its section.
    assert set(lifecycle.exporters()) <= set(data)

    # Nothing of the other user, and no secrets.
    for foreign in (other.email, other.handle, "Other Oscar", "not yours", "198.51.100.99"):
        assert foreign not in raw
    assert secret not in raw
    assert "password" not in accounts["user"]
    assert "argon2" not in raw


def test_export_lists_sessions_without_their_keys(user):
    client = signed_in(user)
    client.get("/api/v1/me/")  # registers the session
    data = client.get(EXPORT).json()
    sessions = data["accounts"]["sessions"]
    assert len(sessions) == 1
    assert set(sessions[0]) == {"ip", "user_agent", "created_at", "last_seen_at"}
    assert client.cookies["sessionid"].value not in json.dumps(data)


def test_export_is_recorded_in_the_security_log(user, user_api_client):
    user_api_client.get(EXPORT)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.DATA_EXPORTED).count() == 1


def test_export_needs_sign_in(api_client):
    response = api_client.get(EXPORT)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_export_refuses_api_keys(user):
    from integrations.services import api_key_issue

    issued = api_key_issue(user=user, name="reader", scopes=["profile:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    response = client.get(EXPORT)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_not_allowed"


def test_settings_page_download_button(two_users):
    user, other = two_users
    client = Client()
    client.force_login(user)
    page = client.get("/settings/account/").content.decode()
    assert 'action="/settings/account/export/"' in page
    response = client.post("/settings/account/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["accounts"]["user"]["email"] == user.email
    assert other.email not in response.content.decode()


def test_settings_download_is_post_only_and_needs_sign_in(user):
    client = Client()
    assert client.post("/settings/account/export/").status_code == 302  # to the login page
    client.force_login(user)
    assert client.get("/settings/account/export/").status_code == 405
