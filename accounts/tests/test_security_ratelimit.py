"""Rate limits on login, sign-up, reset and verification (allauth, stored in the Redis cache).

The rule (config/settings.py ACCOUNT_RATE_LIMITS, accounts.adapters.AccountAdapter): failed logins
count per IP and per (IP, account); a few failures from one address do not lock the owner out
elsewhere. The per-account back-off on top is in test_login_backoff.py.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import login
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = {"REMOTE_ADDR": "198.51.100.66"}
VICTIM = {"REMOTE_ADDR": "203.0.113.5"}


def _signed_in(client: Client) -> bool:
    return client.get("/settings/security/").status_code == 200


def test_rate_limits_live_in_redis(settings):
    # Redis behind the cache that fails over to process memory while Redis is down.
    assert settings.CACHES["default"]["BACKEND"] == "config.cache.ResilientRedisCache"
    cache.set("probe", 1)
    assert cache.primary.get("probe") == 1  # written to Redis itself, not the fallback


def test_failed_logins_slow_the_attacker_but_do_not_lock_out_the_owner(user):
    attacker, owner = Client(**ATTACKER), Client(**VICTIM)

    for _ in range(5):
        assert login(attacker, user.email, "guess-" + "x" * 8).status_code == 200
    blocked = login(attacker, user.email)  # even the right password is refused now

    assert blocked.status_code == 200
    assert "too many" in str(blocked.context["form"].errors).lower()
    assert not _signed_in(attacker)
    # The owner, elsewhere, signs in as usual.
    assert login(owner, user.email).status_code == 302
    assert _signed_in(owner)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED).count() == 5


def test_failed_logins_across_accounts_are_limited_per_ip():
    users = UserFactory.create_batch(11)
    attacker = Client(**ATTACKER)
    for victim in users[:10]:
        login(attacker, victim.email, "wrong-password-123")

    blocked = login(attacker, users[10].email)

    assert "too many" in str(blocked.context["form"].errors).lower()
    assert login(Client(**VICTIM), users[10].email).status_code == 302


def test_login_form_posts_are_limited_to_30_a_minute_per_ip():
    attacker = Client(**ATTACKER)
    statuses = [attacker.post("/accounts/login/", {}).status_code for _ in range(31)]

    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    assert "Too many requests" in attacker.post("/accounts/login/", {}).content.decode()
    assert Client(**VICTIM).post("/accounts/login/", {}).status_code == 200


def test_signup_posts_are_limited_to_20_a_minute_per_ip():
    attacker = Client(**ATTACKER)
    statuses = [attacker.post("/accounts/signup/", {}).status_code for _ in range(21)]

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    assert Client(**VICTIM).post("/accounts/signup/", {}).status_code == 200


def test_reset_requests_are_limited_per_ip():
    attacker = Client(**ATTACKER)
    statuses = [
        attacker.post("/accounts/password/reset/", {"email": f"n{i}@example.com"}).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429


def test_behind_the_proxy_the_proxy_appended_address_counts(settings, user):
    settings.TRUSTED_PROXY_COUNT = 1  # one proxy of ours (e.g. Railway), which appends the address
    client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.77")
    client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct-horse-battery-staple"},
        HTTP_X_FORWARDED_PROTO="https",
        secure=True,
    )
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.LOGIN)
    assert event.ip_address == "203.0.113.77"  # not the proxy, not the spoofable left-most entry
