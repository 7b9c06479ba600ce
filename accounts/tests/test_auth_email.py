"""E-mail change with re-verification and re-authentication, through the pages."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import SecurityEvent, User
from accounts.tests.auth_helpers import last_mail_to, link_in, login, reauthenticate
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _add_email(client, email: str):
    return client.post("/accounts/email/", {"action_add": "", "email": email})


def test_email_page_has_settings_sidebar(client, user):
    login(client, user.email)
    response = client.get("/accounts/email/")
    assert response.status_code == 200
    assert 'href="/accounts/email/" aria-current="page"' in response.content.decode()


def test_change_email_needs_verification_then_switches_and_notifies_old_address(client, user):
    old = user.email
    login(client, user.email)
    reauthenticate(client)
    mail.outbox.clear()

    response = _add_email(client, "Fresh@Example.com")

    assert response.status_code == 302
    # Nothing changes until the new address is verified.
    user.refresh_from_db()
    assert user.email == old
    confirm = link_in(last_mail_to("fresh@example.com"), "/accounts/confirm-email/")
    response = client.post(confirm)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "fresh@example.com"
    assert EmailAddress.objects.get(user=user, primary=True).email == "fresh@example.com"
    assert not EmailAddress.objects.filter(user=user, email=old).exists()
    notice = last_mail_to(old)
    assert "fresh@example.com" in str(notice.body)
    event = SecurityEvent.objects.get(
        user=user, kind=SecurityEvent.Kind.EMAIL_CHANGED, detail__new="fresh@example.com"
    )
    assert event.detail["old"] == old


def test_change_email_requires_recent_authentication(client, user):
    login(client, user.email)  # signing in is not enough: the password is asked again

    response = _add_email(client, "fresh@example.com")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not EmailAddress.objects.filter(email="fresh@example.com").exists()

    wrong = client.post(response["Location"], {"password": "wrong-password"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    right = client.post(response["Location"], {"password": DEFAULT_PASSWORD}, follow=True)
    assert right.status_code == 200
    assert EmailAddress.objects.filter(user=user, email="fresh@example.com", verified=False).exists()


@pytest.mark.parametrize("email", ["not-an-email", "", "x" * 250 + "@example.com"])
def test_invalid_new_email_is_refused(client, user, email):
    login(client, user.email)
    reauthenticate(client)
    response = _add_email(client, email)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert EmailAddress.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("email", ["other@example.com", "OTHER@example.com"])
def test_email_of_another_account_is_not_taken_over(client, user, email):
    UserFactory(email="other@example.com")
    login(client, user.email)
    reauthenticate(client)

    _add_email(client, email)

    assert User.objects.filter(email__iexact="other@example.com").count() == 1
    assert not EmailAddress.objects.filter(
        user=user, email__iexact="other@example.com", verified=True
    ).exists()
    user.refresh_from_db()
    assert user.email != "other@example.com"
