"""Login, logout, failed logins and the admin's login, through the pages."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import FIREFOX_LINUX, login
from accounts.tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_site_layout_with_passkey_option(client):
    response = client.get("/accounts/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="site-header"' in body
    assert 'class="card auth-card"' in body
    assert "passkey_login" in body  # MFA_PASSKEY_LOGIN_ENABLED


def test_login_with_email_in_any_case_records_ip_and_user_agent(client, user):
    response = login(client, user.email.upper(), REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=FIREFOX_LINUX)

    assert response.status_code == 302
    assert client.get("/settings/security/").status_code == 200
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.LOGIN)
    assert event.ip_address == "203.0.113.5"
    assert event.user_agent == FIREFOX_LINUX


def test_wrong_password_is_refused_and_logged_for_the_account(client, user):
    response = login(
        client, user.email, "not-my-password", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="evil/1.0"
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/settings/security/").status_code == 302
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.ip_address == "198.51.100.4"
    assert event.user_agent == "evil/1.0"
    assert event.detail == {"reason": "password"}
    assert "not-my-password" not in str(event.detail)


def test_unknown_email_gets_the_same_answer_and_logs_nothing(client, user):
    known = login(client, user.email, "not-my-password")
    unknown = login(client, "nobody@example.com", "not-my-password")

    assert known.status_code == unknown.status_code == 200
    assert str(known.context["form"].non_field_errors()) == str(unknown.context["form"].non_field_errors())
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED).count() == 1


def test_inactive_user_cannot_log_in(client):
    user = UserFactory(is_active=False)
    response = login(client, user.email)
    assert client.get("/settings/security/").status_code == 302
    assert response.status_code in (200, 302)
    assert not SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN).exists()


@pytest.mark.parametrize("data", [{}, {"login": "", "password": ""}, {"login": "x" * 5000, "password": "y"}])
def test_malformed_login_form_is_a_form_error(client, data):
    response = client.post("/accounts/login/", data)
    assert response.status_code == 200
    assert response.context["form"].errors


def test_logout_ends_the_session_and_is_logged(client, user):
    login(client, user.email)

    page = client.get("/accounts/logout/")
    response = client.post("/accounts/logout/")

    assert page.status_code == 200  # GET asks for confirmation, never signs out
    assert response.status_code == 302
    assert client.get("/settings/security/").status_code == 302
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGOUT).exists()


def test_next_url_is_followed_but_not_to_another_site(client, user):
    response = client.post(
        "/accounts/login/?next=/settings/security/",
        {"login": user.email, "password": "correct-horse-battery-staple", "next": "/settings/security/"},
    )
    assert response["Location"] == "/settings/security/"
    client.logout()
    response = client.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct-horse-battery-staple", "next": "https://evil.example/"},
    )
    assert "evil.example" not in response["Location"]


# --- Django admin goes through the same login ---------------------------------------------------


def test_admin_login_redirects_to_site_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_admin_visit_ends_at_site_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_admin_login_form_cannot_be_used_to_bypass_the_site_login(client):
    staff = StaffUserFactory()
    response = client.post(
        "/admin/login/", {"username": staff.email, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/admin/").status_code == 302


def test_staff_reaches_admin_after_site_login(client):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    from accounts.tests.factories import STAFF_TOTP_SECRET

    staff = StaffUserFactory()  # staff have two-factor authentication: the admin needs it
    login(client, staff.email)
    assert client.get("/admin/").status_code == 302  # not signed in until the second step
    code = format_hotp_value(hotp_value(STAFF_TOTP_SECRET, next(yield_hotp_counters_from_time())))
    client.post("/accounts/2fa/authenticate/", {"code": code})
    assert client.get("/admin/").status_code == 200


def test_non_staff_is_refused_admin(client, user):
    login(client, user.email)
    assert client.get("/admin/login/").status_code == 403
    response = client.get("/admin/")
    assert response.status_code == 302  # Django's own "not staff" redirect to its login ...
    assert client.get(response["Location"]).status_code == 403  # ... which refuses a signed-in user
