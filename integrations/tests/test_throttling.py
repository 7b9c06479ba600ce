"""Per-key rate limit from the owner's plan, counted in Redis."""

from __future__ import annotations

import pytest

from billing.entitlements import entitlements_get_for_user
from integrations.tests.factories import bearer, issue_key

pytestmark = [pytest.mark.django_db, pytest.mark.urls("integrations.tests.urls")]

PROBE = "/api/v1/_probe/"


def test_a_key_over_its_plans_limit_gets_429_with_retry_after(client, user):
    limit = entitlements_get_for_user(user=user).api_requests_per_minute
    issued = issue_key(user, scopes=["posts:read"])
    statuses = [client.get(PROBE, **bearer(issued.token)).status_code for _ in range(limit)]
    assert set(statuses) == {200}
    response = client.get(PROBE, **bearer(issued.token))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["limit"] == limit
    assert str(limit) in error["message"]


def test_each_key_has_its_own_budget_and_sessions_are_not_counted(client, user):
    limit = entitlements_get_for_user(user=user).api_requests_per_minute
    first = issue_key(user, scopes=["posts:read"], name="First")
    second = issue_key(user, scopes=["posts:read"], name="Second")
    for _ in range(limit + 1):
        client.get(PROBE, **bearer(first.token))
    assert client.get(PROBE, **bearer(first.token)).status_code == 429
    assert client.get(PROBE, **bearer(second.token)).status_code == 200
    client.force_login(user)
    assert client.get(PROBE).status_code == 200


def test_a_refused_key_does_not_use_up_the_budget(client, user):
    limit = entitlements_get_for_user(user=user).api_requests_per_minute
    issued = issue_key(user, scopes=["profile:read"])
    for _ in range(limit + 5):
        assert client.get(PROBE, **bearer(issued.token)).status_code == 403  # no posts:read
    assert client.get("/api/v1/_probe/undeclared/", **bearer(issued.token)).status_code == 403
