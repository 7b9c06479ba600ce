"""13.2: a per-account cap on wrong passwords, whatever address they come from.

Exponential back-off per account (settings.LOGIN_BACKOFF) on top of allauth's per-IP and
per-(IP, account) limits; an account with a second factor still signs in with it.
"""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import login
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.test_auth_headless import BASE, Spa

pytestmark = pytest.mark.django_db

SECRET = pyotp.random_base32()


def _address(i: int) -> dict[str, str]:
    return {"REMOTE_ADDR": f"198.51.100.{i}"}


def _spray(email: str, addresses: int = 8, per_address: int = 5) -> None:
    """``addresses * per_address`` wrong passwords, each address under its own per-IP limits."""
    for a in range(addresses):
        client = Client(**_address(a + 1))
        for _ in range(per_address):
            login(client, email, "wrong-password-1")


def _signed_in(client: Client) -> bool:
    return client.get("/settings/security/").status_code == 200


def test_forty_failures_from_eight_addresses_hold_up_the_right_password_from_a_ninth(user):
    _spray(user.email)
    ninth = Client(**_address(9))

    response = login(ninth, user.email)

    assert response.status_code == 200
    assert "Too many failed sign-ins to this account" in response.content.decode()
    assert not _signed_in(ninth)
    # Only the real tries were checked and logged; the ones during the wait were refused unread.
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED).count() == 10


def test_the_headless_login_has_the_same_cap(user):
    _spray(user.email)
    spa = Spa()
    response = spa.call("post", f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "Too many failed sign-ins" in response.content.decode()


def test_an_unknown_address_is_held_up_the_same_way():
    _spray("nobody@example.com", addresses=3)
    response = login(Client(**_address(9)), "nobody@example.com", "whatever-password")
    assert "Too many failed sign-ins to this account" in response.content.decode()


def test_the_wait_is_short_and_then_the_owner_signs_in(user, settings):
    settings.LOGIN_BACKOFF = {
        **settings.LOGIN_BACKOFF,
        "free_failures": 3,
        "base_seconds": 1,
        "max_seconds": 1,
    }
    _spray(user.email, addresses=1, per_address=3)
    owner = Client(**_address(50))
    assert "Too many failed sign-ins" in login(owner, user.email).content.decode()

    time.sleep(1.2)

    assert login(owner, user.email).status_code == 302
    assert _signed_in(owner)
    # The success cleared the count: the next mistake costs no wait.
    other = Client(**_address(51))
    login(other, user.email, "wrong-password-1")
    assert login(other, user.email).status_code == 302


def test_an_account_with_a_second_factor_still_signs_in_with_it(user):
    TOTP.activate(user, SECRET)
    _spray(user.email)
    owner = Client(**_address(9))

    wrong = login(owner, user.email, "wrong-password-1")
    assert "Too many failed sign-ins" in wrong.content.decode()  # same answer as for anyone

    response = login(owner, user.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = owner.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(SECRET).now()})
    assert response.status_code == 302
    assert _signed_in(owner)
