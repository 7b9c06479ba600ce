"""Every allauth page renders inside the project's layout (base.html, settings sidebar)."""

from __future__ import annotations

import pytest

from accounts.tests.auth_helpers import login, reauthenticate

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
    "/accounts/confirm-email/",
    "/accounts/reauthenticate/",  # redirects anonymous visitors to login
]
MANAGE_PAGES = [
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/webauthn/",
    "/accounts/2fa/webauthn/add/",
    "/accounts/sessions/",
]


def _assert_in_layout(body: str) -> None:
    assert 'class="site-header"' in body, "not rendered inside base.html"
    assert "css/accounts.css" in body
    assert "Menu:" not in body  # allauth's bare default layout


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_entrance_pages_use_the_site_layout(client, path):
    response = client.get(path, follow=True)
    assert response.status_code == 200
    _assert_in_layout(response.content.decode())


@pytest.mark.parametrize("path", MANAGE_PAGES)
def test_account_pages_use_the_settings_layout(client, user, path):
    login(client, user.email)
    reauthenticate(client)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    _assert_in_layout(body)
    assert 'class="sidebar"' in body


def test_logout_and_reauthenticate_pages_use_the_site_layout(client, user):
    login(client, user.email)
    for path in ("/accounts/logout/", "/accounts/reauthenticate/"):
        response = client.get(path)
        assert response.status_code == 200
        _assert_in_layout(response.content.decode())


def test_forms_use_the_project_buttons(client):
    body = client.get("/accounts/login/").content.decode()
    assert 'class="button button-primary"' in body


def test_rate_limit_page_uses_the_site_layout(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client.post("/accounts/login/", {})
    response = client.post("/accounts/login/", {})
    assert response.status_code == 429
    assert 'class="site-header"' in response.content.decode()
