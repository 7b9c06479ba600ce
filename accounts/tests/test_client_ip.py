"""13.1: the client IP is REMOTE_ADDR unless TRUSTED_PROXY_COUNT says proxies of ours append to
X-Forwarded-For; malformed values never answer 500. Production sets SECURE_PROXY_SSL_HEADER
only with trusted proxies, so these tests run with it on, as production did before."""

from __future__ import annotations

import json
import time

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from djstripe.models import WebhookEventTrigger
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import login
from billing.tests.factories import sign, webhook_endpoint

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # what REMOTE_ADDR is behind a proxy


@pytest.fixture
def production_proxy_header(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def _login_ips(user) -> list[str | None]:
    return list(
        SecurityEvent.objects.filter(user=user, kind__in=["login", "login_failed"])
        .order_by("id")
        .values_list("ip_address", flat=True)
    )


def test_without_trusted_proxies_a_rotating_forwarded_header_does_not_escape_the_login_limit(
    user, production_proxy_header
):
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for i in range(5):
        login(attacker, user.email, "wrong-password-1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")

    blocked = login(attacker, user.email, HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert blocked.status_code == 200
    assert "too many" in str(blocked.context["form"].errors).lower()
    assert set(_login_ips(user)) == {"198.51.100.66"}  # the log holds the real address


def test_with_one_trusted_proxy_the_address_it_appended_is_the_client(user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    browser = Client(REMOTE_ADDR=PROXY)

    response = login(browser, user.email, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")

    assert response.status_code == 302
    assert _login_ips(user) == ["203.0.113.7"]
    assert list(UserSession.objects.filter(user=user).values_list("ip", flat=True)) == ["203.0.113.7"]


@pytest.mark.parametrize("forwarded", ["not-an-ip", "999.1.1.1", "1.2.3.4, <script>", "", " , "])
def test_a_malformed_forwarded_address_falls_back_to_remote_addr(
    user, settings, production_proxy_header, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1
    browser = Client(REMOTE_ADDR=PROXY)

    response = login(browser, user.email, "wrong-password-1", HTTP_X_FORWARDED_FOR=forwarded)

    assert response.status_code == 200
    assert _login_ips(user) == [PROXY]


def test_the_anonymous_api_throttle_counts_the_real_address(settings, user, production_proxy_header):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "600/min"},
    }
    client = APIClient(REMOTE_ADDR="198.51.100.66")
    statuses = [
        client.get(f"/api/v1/users/{user.handle}/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]


def test_a_webhook_with_a_malformed_forwarded_header_is_answered_not_a_500(client, settings):
    endpoint = webhook_endpoint(settings)
    body = json.dumps({"id": "evt_1", "object": "event", "type": "ping", "created": int(time.time())})
    response = client.post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/",
        data=body.encode(),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body.encode(), "whsec_attacker"),
        HTTP_X_FORWARDED_FOR="not-an-ip",
    )
    assert response.status_code == 400
    assert WebhookEventTrigger.objects.get().remote_ip == "127.0.0.1"


def test_secure_proxy_ssl_header_is_set_only_with_trusted_proxies():
    import subprocess
    import sys

    def setting(count: str) -> str:
        code = (
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
            "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
        )
        env = {**__import__("os").environ, "TRUSTED_PROXY_COUNT": count}
        return subprocess.run(  # noqa: S603  our own interpreter and a fixed script
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    assert setting("0") == "None"
    assert setting("1") == "('HTTP_X_FORWARDED_PROTO', 'https')"
