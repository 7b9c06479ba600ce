"""Password reset (single use, expiring, no enumeration) and password change, through the pages."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import SecurityEvent, User
from accounts.tests.auth_helpers import STRONG_PASSWORD, last_mail_to, link_in, login
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-quartz-meadow-4471"


def _request_reset(client, email: str):
    return client.post("/accounts/password/reset/", {"email": email})


def _reset_link(email: str) -> str:
    return link_in(last_mail_to(email), "/accounts/password/reset/key/")


def _set_new_password(client, link: str, password: str = NEW_PASSWORD):
    """Follows the e-mailed link as a browser does (the key moves into the session) and posts."""
    page = client.get(link, follow=True)
    if page.status_code != 200 or page.context.get("token_fail"):
        return page
    form_path = page.redirect_chain[-1][0] if page.redirect_chain else link
    return client.post(form_path, {"password1": password, "password2": password})


def test_reset_page_renders_in_site_layout(client):
    response = client.get("/accounts/password/reset/")
    assert response.status_code == 200
    assert 'class="site-header"' in response.content.decode()


def test_reset_sets_new_password_notifies_and_logs(client, user):
    response = _request_reset(client, user.email.upper())
    assert response.status_code == 302
    link = _reset_link(user.email)
    mail.outbox.clear()

    response = _set_new_password(client, link)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PASSWORD_RESET).exists()
    notice = last_mail_to(user.email)
    assert "password" in notice.subject.lower()
    # The old password no longer works; the new one does.
    assert login(client, user.email, DEFAULT_PASSWORD).status_code == 200
    assert login(client, user.email, NEW_PASSWORD).status_code == 302


def test_unknown_email_gets_the_same_answer(client, user):
    known = _request_reset(client, user.email)
    unknown = _request_reset(client, "nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # No reset link exists for an address without an account.
    assert all(
        "/accounts/password/reset/key/" not in str(m.body)
        for m in mail.outbox
        if "nobody@example.com" in m.to
    )


def test_reset_link_works_only_once(client, user):
    _request_reset(client, user.email)
    link = _reset_link(user.email)
    assert _set_new_password(client, link).status_code == 302
    client.logout()

    again = _set_new_password(client, link, password="another-" + NEW_PASSWORD)

    assert again.status_code == 200
    assert again.context["token_fail"]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_expired_reset_link_is_refused(client, user, settings):
    _request_reset(client, user.email)
    link = _reset_link(user.email)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is now older than the timeout

    response = _set_new_password(client, link)

    assert response.status_code == 200
    assert response.context["token_fail"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_forged_reset_link_is_refused(client, user):
    response = client.get("/accounts/password/reset/key/1-forged-token/", follow=True)
    assert response.status_code == 200
    assert response.context["token_fail"]


def test_reset_to_weak_password_is_refused(client, user):
    _request_reset(client, user.email)
    response = _set_new_password(client, _reset_link(user.email), password="password1")
    assert response.status_code == 200
    assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_reset_requests_are_rate_limited_per_address(client, user):
    # reset_password: 5 per minute for one address.
    statuses = [_request_reset(client, user.email).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429


# --- Password change ----------------------------------------------------------------------------


def _change(client, old: str, new: str):
    return client.post("/accounts/password/change/", {"oldpassword": old, "password1": new, "password2": new})


def test_change_password_page_has_settings_sidebar(client, user):
    login(client, user.email)
    response = client.get("/accounts/password/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="sidebar"' in body
    assert 'href="/accounts/password/change/" aria-current="page"' in body


def test_change_password_notifies_and_logs_and_keeps_session(client, user):
    login(client, user.email)
    mail.outbox.clear()

    response = _change(client, DEFAULT_PASSWORD, STRONG_PASSWORD)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED).exists()
    assert "password" in last_mail_to(user.email).subject.lower()
    assert client.get("/settings/security/").status_code == 200


def test_change_password_needs_the_current_password(client, user):
    login(client, user.email)
    response = _change(client, "wrong-password", STRONG_PASSWORD)
    assert response.status_code == 200
    assert "oldpassword" in response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("weak", ["short", "123456789012", "password123"])
def test_change_to_weak_password_is_refused(client, user, weak):
    login(client, user.email)
    response = _change(client, DEFAULT_PASSWORD, weak)
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.get(pk=user.pk).check_password(weak)


def test_change_password_requires_login(client):
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
