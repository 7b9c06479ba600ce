"""Recovering an account stops its API keys: a password reset always, a password change unless
the owner chose to keep them (the page offers it, default yes; the headless API always stops)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import STRONG_PASSWORD, last_mail_to, link_in, login
from accounts.tests.factories import DEFAULT_PASSWORD
from integrations.tests.factories import bearer, issue_key

pytestmark = pytest.mark.django_db

PROBE = "/api/v1/me/"


def _keys(user):
    return [issue_key(user, scopes=["profile:read"], name=f"Key {n}") for n in range(2)]


def _works(token: str) -> bool:
    return APIClient().get(PROBE, **bearer(token)).status_code == 200


def test_a_password_reset_stops_every_key(client, user, other_user):
    mine, theirs = _keys(user), issue_key(other_user, scopes=["profile:read"])
    assert all(_works(k.token) for k in mine)
    client.post("/accounts/password/reset/", {"email": user.email})
    page = client.get(link_in(last_mail_to(user.email), "/accounts/password/reset/key/"), follow=True)
    response = client.post(
        page.redirect_chain[-1][0], {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    )
    assert response.status_code == 302
    assert not any(_works(k.token) for k in mine)
    assert _works(theirs.token)
    revoked = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_REVOKED)
    assert [e.detail["reason"] for e in revoked] == ["password_reset", "password_reset"]


def _change(client, **extra):
    data = {"oldpassword": DEFAULT_PASSWORD, "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD}
    return client.post("/accounts/password/change/", {**data, **extra})


def test_the_password_change_page_offers_to_stop_the_keys_checked_by_default(client, user):
    login(client, user.email)
    html = client.get("/accounts/password/change/").content.decode()
    assert 'name="revoke_api_keys" value="yes"' in html
    assert "Stop all my API keys too" in html
    yes = html[html.index('value="yes"') - 200 : html.index('value="yes"') + 200]
    assert "checked" in yes


def test_a_password_change_stops_every_key_by_default(client, user):
    keys = _keys(user)
    login(client, user.email)
    assert _change(client, revoke_api_keys="yes").status_code == 302
    assert not any(_works(k.token) for k in keys)


def test_a_password_change_can_keep_the_keys(client, user):
    keys = _keys(user)
    login(client, user.email)
    assert _change(client, revoke_api_keys="no").status_code == 302
    assert all(_works(k.token) for k in keys)
    assert not SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_REVOKED).exists()


def test_a_headless_password_change_stops_every_key(user):
    keys = _keys(user)
    spa = APIClient()
    spa.force_login(user)
    response = spa.post(
        "/_allauth/browser/v1/account/password/change",
        {"current_password": DEFAULT_PASSWORD, "new_password": STRONG_PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert not any(_works(k.token) for k in keys)


def test_a_password_change_without_the_choice_stops_every_key(client, user):
    keys = _keys(user)
    login(client, user.email)
    assert _change(client).status_code == 302
    assert not any(_works(k.token) for k in keys)
