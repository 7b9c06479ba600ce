"""Key authentication: every way a key can be wrong gives 401 with a specific code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import BasePasswordHasher
from django.utils import timezone

from accounts.models import SecurityEvent
from accounts.services import user_deactivate
from accounts.tests.factories import StaffUserFactory
from integrations import keys
from integrations.models import ApiKey
from integrations.services import api_key_revoke, api_key_rotate
from integrations.tests.factories import age_key, bearer, expire_key, issue_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("integrations.tests.urls")]

PROBE = "/api/v1/_probe/"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["fields"] == {}
    return body["error"]


def test_a_valid_key_authenticates_as_its_owner(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    response = client.get(PROBE, **bearer(issued.token))
    assert response.status_code == 200
    assert response.json() == {"user": user.handle}


def test_the_bearer_keyword_is_case_insensitive(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    assert client.get(PROBE, HTTP_AUTHORIZATION=f"bearer {issued.token}").status_code == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer  "])
def test_a_malformed_authorization_header_is_401(client, header):
    response = client.get(PROBE, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "invalid_authorization_header")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_truncated_key_is_401_malformed(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    assert_error(client.get(PROBE, **bearer(issued.token[:-3])), 401, "malformed_api_key")


def test_a_non_ascii_key_is_401_malformed(client):
    response = client.get(PROBE, HTTP_AUTHORIZATION="Bearer relay_test_é")
    assert_error(response, 401, "malformed_api_key")


def test_a_wrong_checksum_is_401(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    last = issued.token[-1]
    altered = issued.token[:-1] + ("a" if last != "a" else "b")
    assert_error(client.get(PROBE, **bearer(altered)), 401, "invalid_api_key_checksum")


def test_a_key_from_another_environment_is_401_and_says_so(client, user):
    live = keys.make_token(public_id=issue_key(user).api_key.public_id, environment="live")
    error = assert_error(client.get(PROBE, **bearer(live)), 401, "wrong_environment_api_key")
    assert "live" in error["message"]


def test_an_unknown_key_with_a_valid_checksum_is_401(client, user):
    made_up = keys.make_token(public_id="ZZZZZZZZZZ")
    assert_error(client.get(PROBE, **bearer(made_up)), 401, "invalid_api_key")


def test_a_known_public_id_with_another_secret_is_401(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    forged = keys.make_token(public_id=issued.api_key.public_id)
    assert_error(client.get(PROBE, **bearer(forged)), 401, "invalid_api_key")


def test_an_expired_key_is_401(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    expire_key(issued.api_key)
    assert_error(client.get(PROBE, **bearer(issued.token)), 401, "expired_api_key")


def test_a_revoked_key_stops_at_once(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    assert client.get(PROBE, **bearer(issued.token)).status_code == 200
    api_key_revoke(api_key=issued.api_key)
    assert_error(client.get(PROBE, **bearer(issued.token)), 401, "revoked_api_key")


def test_a_rotated_key_works_during_its_grace_period_and_not_after(client, user):
    old = issue_key(user, scopes=["posts:read"])
    new = api_key_rotate(api_key=old.api_key, grace_hours=2)
    assert client.get(PROBE, **bearer(old.token)).status_code == 200
    assert client.get(PROBE, **bearer(new.token)).status_code == 200
    age_key(old.api_key, grace_expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(client.get(PROBE, **bearer(old.token)), 401, "revoked_api_key")
    assert client.get(PROBE, **bearer(new.token)).status_code == 200


def test_rotation_with_no_grace_stops_the_old_key_at_once(client, user):
    old = issue_key(user, scopes=["posts:read"])
    api_key_rotate(api_key=old.api_key, grace_hours=0)
    assert_error(client.get(PROBE, **bearer(old.token)), 401, "revoked_api_key")


def test_the_keys_of_a_deactivated_user_stop_at_once(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    user_deactivate(user=user, reason="test")
    assert_error(client.get(PROBE, **bearer(issued.token)), 401, "inactive_user")


def test_the_keys_of_a_deleted_user_stop_at_once(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    user.delete()
    assert_error(client.get(PROBE, **bearer(issued.token)), 401, "invalid_api_key")


def test_a_bad_key_is_refused_even_with_a_valid_session(client, user):
    client.force_login(user)
    assert_error(client.get(PROBE, HTTP_AUTHORIZATION="Bearer nope"), 401, "malformed_api_key")


def test_other_authorization_schemes_fall_through_to_the_session(client, user):
    client.force_login(user)
    assert client.get(PROBE, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").status_code == 200


def test_key_authentication_costs_one_query(client, user, django_assert_num_queries):
    issued = issue_key(user, scopes=["posts:read"])
    client.get(PROBE, **bearer(issued.token))  # first use: last-used and new-address writes
    with django_assert_num_queries(1):
        response = client.get(PROBE, **bearer(issued.token))
    assert response.status_code == 200


class CountingHasher(BasePasswordHasher):
    algorithm = "counting"
    calls = 0

    def verify(self, password, encoded):
        CountingHasher.calls += 1
        return False

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return f"counting${salt}${password}"

    def safe_summary(self, encoded):
        return {}


def test_no_password_hasher_runs_on_the_key_path(client, user, settings):
    issued = issue_key(user, scopes=["posts:read"])
    settings.PASSWORD_HASHERS = ["integrations.tests.test_authentication.CountingHasher"]
    CountingHasher.calls = 0
    for _ in range(3):
        assert client.get(PROBE, **bearer(issued.token)).status_code == 200
    assert CountingHasher.calls == 0


def test_last_used_is_written_at_most_once_a_minute(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.1")
    first = ApiKey.objects.get(pk=issued.api_key.pk)
    assert first.last_used_at is not None
    assert first.last_used_ip == "10.0.0.1"

    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.2")
    second = ApiKey.objects.get(pk=issued.api_key.pk)
    assert second.last_used_at == first.last_used_at
    assert second.last_used_ip == "10.0.0.1"

    a_minute_ago = timezone.now() - timedelta(seconds=61)
    age_key(issued.api_key, last_used_at=a_minute_ago)
    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.2")
    third = ApiKey.objects.get(pk=issued.api_key.pk)
    assert third.last_used_at > a_minute_ago
    assert third.last_used_ip == "10.0.0.2"


def test_first_use_from_a_new_address_goes_to_the_security_log_once(client, user):
    issued = issue_key(user, scopes=["posts:read"])
    for _ in range(3):
        client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.1")
    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.9")
    events = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_NEW_IP)
    assert sorted(e.ip_address for e in events) == ["10.0.0.1", "10.0.0.9"]
    assert all(e.detail == {"key": issued.api_key.public_id, "name": "Script"} for e in events)


def test_a_known_address_is_not_logged_again_when_the_cache_forgot_it(client, user):
    from django.core.cache import cache

    issued = issue_key(user, scopes=["posts:read"])
    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.1")
    cache.clear()  # an evicted entry, or a cache that was restarted
    client.get(PROBE, **bearer(issued.token), REMOTE_ADDR="10.0.0.1")
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_NEW_IP).count() == 1


def test_the_admin_scope_counts_only_while_the_owner_is_staff(client):
    staff = StaffUserFactory()
    issued = issue_key(staff, scopes=["admin"])
    assert client.get("/api/v1/_probe/admin/", **bearer(issued.token)).status_code == 200
    staff.is_staff = False
    staff.save(update_fields=["is_staff"])
    response = client.get("/api/v1/_probe/admin/", **bearer(issued.token))
    assert_error(response, 403, "missing_scope")
