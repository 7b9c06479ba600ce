"""The security log page (/settings/security/) and API (GET /api/v1/security-events/)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import SecurityEvent
from accounts.services import security_event_record
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/security-events/"


def _record_many(user, count: int) -> None:
    for i in range(count):
        security_event_record(
            user=user, kind=SecurityEvent.Kind.LOGIN, ip_address=f"10.0.0.{i % 250 + 1}", detail={}
        )


def test_security_log_url_is_settings_security():
    assert reverse("accounts:security_log") == "/settings/security/"


def test_page_requires_login(client):
    response = client.get("/settings/security/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_lists_only_own_events_with_ip_and_device(client, user, other_user):
    security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED, ip_address="203.0.113.7")
    security_event_record(user=other_user, kind=SecurityEvent.Kind.EMAIL_CHANGED, ip_address="198.51.100.9")
    client.force_login(user)

    response = client.get("/settings/security/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Password changed" in body
    assert "203.0.113.7" in body
    assert "E-mail address changed" not in body
    assert "198.51.100.9" not in body
    assert 'class="sidebar"' in body  # inside the settings layout


def test_page_is_paginated(client, user):
    _record_many(user, 30)
    client.force_login(user)

    first = client.get("/settings/security/")
    second = client.get("/settings/security/?page=2")
    bogus = client.get("/settings/security/?page=not-a-number")

    assert len(first.context["events"]) == 25
    assert len(second.context["events"]) == 5
    assert bogus.status_code == 200  # a bad page number shows the first page, never a 500


def test_page_shows_device_from_user_agent(client, user):
    client.get("/")  # nothing recorded for anonymous visits
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct-horse-battery-staple"},
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    )
    response = client.get("/settings/security/")
    assert "Firefox on Linux" in response.content.decode()


def test_api_lists_own_events_newest_first(user_api_client, user, other_user):
    security_event_record(user=user, kind=SecurityEvent.Kind.LOGIN, ip_address="203.0.113.7")
    security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED, detail={"x": 1})
    security_event_record(user=other_user, kind=SecurityEvent.Kind.LOGIN)

    response = user_api_client.get(API_URL)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["kind"] for r in results] == ["password_changed", "login"]
    assert results[0]["kind_display"] == "Password changed"
    assert results[1]["ip_address"] == "203.0.113.7"
    assert set(results[0]) == {
        "id",
        "kind",
        "kind_display",
        "ip_address",
        "user_agent",
        "detail",
        "created_at",
    }


def test_api_is_cursor_paginated(user_api_client, user):
    _record_many(user, 25)

    first = user_api_client.get(API_URL).json()
    second = user_api_client.get(first["next"]).json()

    assert len(first["results"]) == 20
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize("count", [1, 40])
def test_api_query_count_does_not_grow(user_api_client, user, django_assert_num_queries, count):
    _record_many(user, count)
    user_api_client.get(API_URL)  # the first request of a session registers it (usersessions)
    # user (the time zone comes from the session), then one query for the page of events
    with django_assert_num_queries(2):
        response = user_api_client.get(API_URL)
    assert response.status_code == 200


def test_api_refuses_anonymous_with_error_shape(api_client):
    response = api_client.get(API_URL)
    assert response.status_code in (401, 403)
    error = response.json()["error"]
    assert error["code"] == "not_authenticated"
    assert set(error) >= {"code", "message", "fields"}


def test_api_bad_cursor_is_a_404_with_error_shape(user_api_client):
    response = user_api_client.get(API_URL + "?cursor=garbage")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("scopes", [["profile:read"], ["profile:read", "profile:write"], ["posts:read"]])
def test_api_keys_cannot_read_the_security_log(api_client, user, scopes):
    """Session-only, like the data export: sign-in IPs and user agents are for the person."""
    from integrations.services import api_key_issue

    issued = api_key_issue(user=user, name="script", scopes=scopes)
    security_event_record(user=user, kind=SecurityEvent.Kind.LOGIN, ip_address="198.51.100.7")

    response = api_client.get(API_URL, HTTP_AUTHORIZATION=f"Bearer {issued.token}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] in {"scope_not_allowed", "missing_scope"}
    assert "198.51.100.7" not in response.content.decode()


def test_security_events_are_in_the_openapi_schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/security-events/" in schema["paths"]
    assert "/_allauth/openapi.html" in schema["info"]["description"]


def test_user_factory_users_have_no_events_to_start_with():
    assert not SecurityEvent.objects.filter(user=UserFactory()).exists()


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_device_names(user_agent, device):
    from accounts.devices import describe_user_agent

    assert describe_user_agent(user_agent) == device
