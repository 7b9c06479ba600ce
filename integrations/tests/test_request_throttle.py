"""The per-user / per-address API rate limit (DRF's anon and user rates, one Redis round trip)."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "5/min"},
    }


def _assert_throttled(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert set(response.json()["error"]) >= {"code", "message", "fields"}


def test_a_signed_in_user_over_the_user_rate_gets_429(low_rates, user, other_user):
    client = APIClient()
    client.force_login(user)
    url = "/api/v1/notifications/unread-count/"
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5
    _assert_throttled(client.get(url))
    # Each user has their own budget.
    other = APIClient()
    other.force_login(other_user)
    assert other.get(url).status_code == 200


def test_anonymous_requests_are_counted_per_address(low_rates, user):
    url = f"/api/v1/users/{user.handle}/"
    here, elsewhere = APIClient(REMOTE_ADDR="203.0.113.7"), APIClient(REMOTE_ADDR="198.51.100.9")
    assert [here.get(url).status_code for _ in range(3)] == [200] * 3
    _assert_throttled(here.get(url))
    assert elsewhere.get(url).status_code == 200


def test_a_fresh_forwarded_header_per_request_does_not_escape_the_anonymous_rate(settings, user):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "60/min"}}
    url = f"/api/v1/users/{user.handle}/"
    client = APIClient(REMOTE_ADDR="10.0.0.2")  # the proxy
    if time.time() % 60 > 45:  # the fixed window must not turn over during the 70 requests
        time.sleep(60 - time.time() % 60 + 0.1)
    statuses = [
        # The client claims a new address each time; the proxy appends the one it saw.
        client.get(url, HTTP_X_FORWARDED_FOR=f"198.18.{n // 250}.{n % 250 + 1}, 203.0.113.50").status_code
        for n in range(70)
    ]
    assert statuses[:60] == [200] * 60
    assert statuses[60:] == [429] * 10


def test_each_request_is_one_redis_command_and_the_counter_expires_with_its_window(low_rates, user):
    """The count is one atomic script (INCR, EXPIRE when new): no counter outlives its window,
    and a Redis that lost its scripts (restart, SCRIPT FLUSH) is sent the script again."""
    import redis.connection
    from django.core.cache import cache

    if time.time() % 60 > 50:  # the fixed window must not turn over during the test
        time.sleep(60 - time.time() % 60 + 0.1)
    client = APIClient()
    client.force_login(user)
    url = "/api/v1/notifications/unread-count/"
    client.get(url)  # session and user loaded once
    sent: list[str] = []
    original = redis.connection.AbstractConnection.send_command

    def counting(self, *args, **kwargs):
        sent.append(str(args[0]).upper())
        return original(self, *args, **kwargs)

    redis.connection.AbstractConnection.send_command = counting
    try:
        assert client.get(url).status_code == 200
    finally:
        redis.connection.AbstractConnection.send_command = original
    assert sent.count("EVALSHA") == 1
    assert not {"INCR", "EXPIRE", "SET", "GET"} & set(sent[sent.index("EVALSHA") :])

    redis_client = cache.primary.client.get_client(write=True)
    (key,) = redis_client.keys(f"*throttle:user:{user.pk}:*")
    assert int(redis_client.get(key)) == 2
    assert 0 < redis_client.ttl(key) <= 120
    redis_client.script_flush()
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    assert int(redis_client.get(key)) == 5
    _assert_throttled(client.get(url))
