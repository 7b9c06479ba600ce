"""Sign-up with mandatory e-mail verification, through the pages."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import Profile, SecurityEvent, User
from accounts.tests.auth_helpers import STRONG_PASSWORD, last_mail_to, link_in, login, signup
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_signup_page_renders_in_site_layout(client):
    response = client.get("/accounts/signup/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="site-header"' in body  # the project's base.html
    assert "css/accounts.css" in body
    assert 'name="username"' in body and 'name="email"' in body


def test_signup_sends_verification_and_verifying_signs_in(client):
    response = signup(client, email="New.Person@Example.com", handle="newperson")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(handle="newperson")
    assert user.email == "new.person@example.com"
    assert Profile.objects.filter(user=user).exists()
    assert not EmailAddress.objects.get(user=user).verified
    # Not signed in before verifying.
    assert client.get("/settings/security/").status_code == 302

    verification = last_mail_to("new.person@example.com")
    assert verification.subject.startswith("[Relay]")
    assert "Relay" in str(verification.body)  # the Site is named after the project, not example.com
    confirm_path = link_in(verification, "/accounts/confirm-email/")
    assert client.get(confirm_path).status_code == 200  # GET shows a button, never confirms
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(confirm_path)

    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/settings/security/").status_code == 200
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"email_verified", "login"} <= kinds


def test_verifying_the_signup_address_is_not_logged_as_an_email_change(client):
    signup(client, email="first@example.com", handle="firstaddress")
    client.post(link_in(last_mail_to("first@example.com"), "/accounts/confirm-email/"))

    user = User.objects.get(handle="firstaddress")
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert "email_verified" in kinds
    assert "email_changed" not in kinds


def test_unverified_user_cannot_log_in(client):
    signup(client, email="pending@example.com", handle="pending")
    client.logout()
    mail.outbox.clear()

    response = login(client, "pending@example.com", STRONG_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/settings/security/").status_code == 302
    # Verification mails are limited to one per address every 3 minutes (confirm_email).
    assert mail.outbox == []


def test_bad_confirmation_key_is_refused(client):
    response = client.post("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code in (200, 404)
    assert not EmailAddress.objects.filter(verified=True).exists()


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "", "x" * 250 + "@example.com"])
def test_invalid_email_is_refused(client, email):
    response = signup(client, email=email, handle="someone")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(handle="someone").exists()


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@Example.COM"])
def test_duplicate_email_in_any_case_creates_no_account_and_reveals_nothing(client, email):
    UserFactory(email="taken@example.com", handle="owner")

    response = signup(client, email=email, handle="intruder")

    # Same answer as a fresh sign-up (no enumeration); the owner is told by e-mail instead.
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not User.objects.filter(handle="intruder").exists()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    assert (
        "already" in last_mail_to("taken@example.com").subject.lower()
        or "already" in str(last_mail_to("taken@example.com").body).lower()
    )


@pytest.mark.parametrize("handle", ["admin", "Admin", "SETTINGS", "api", "Root"])
def test_reserved_handle_is_refused(client, handle):
    response = signup(client, email="someone@example.com", handle=handle)
    assert response.status_code == 200
    assert "reserved" in str(response.context["form"].errors["username"])
    assert not User.objects.filter(email="someone@example.com").exists()


@pytest.mark.parametrize("handle", ["alice", "ALICE", "Alice"])
def test_duplicate_handle_in_any_case_is_refused(client, handle):
    UserFactory(handle="alice")
    response = signup(client, email="someone@example.com", handle=handle)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.filter(handle__iexact="alice").count() == 1


@pytest.mark.parametrize("handle", ["ab", "has space", "dash-es", "émile", "x" * 31])
def test_malformed_handle_is_refused(client, handle):
    response = signup(client, email="someone@example.com", handle=handle)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


@pytest.mark.parametrize(
    "password",
    ["short1", "password123", "1234567890123", "someone-example"],
)
def test_weak_password_is_refused(client, password):
    response = signup(client, email="someone@example.com", handle="someone", password=password)
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.filter(handle="someone").exists()


def test_mismatched_passwords_are_refused(client):
    data = {
        "email": "someone@example.com",
        "username": "someone",
        "password1": STRONG_PASSWORD,
        "password2": STRONG_PASSWORD + "x",
    }
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.filter(handle="someone").exists()


def test_passwords_are_hashed_with_argon2(client):
    signup(client, email="hash@example.com", handle="hashme")
    assert User.objects.get(handle="hashme").password.startswith("argon2")


def test_signup_takes_as_long_for_an_existing_email_as_for_a_new_one(settings):
    """Enumeration by timing: the "account already exists" branch hashes a password too.

    With the production Argon2 parameters the hash is most of a sign-up's cost, so skipping it
    made an existing address answer ~10x faster. Medians of a few runs, compared as a ratio.
    """
    import statistics
    import time

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    UserFactory(email="taken@example.com")
    client = Client()

    def timed(email: str, handle: str) -> float:
        start = time.perf_counter()
        response = signup(client, email=email, handle=handle)
        elapsed = time.perf_counter() - start
        assert response.status_code == 302
        return elapsed

    signup(client, email="warmup@example.com", handle="warmup")  # first-request costs
    existing, new = [], []
    for i in range(4):
        existing.append(timed("taken@example.com", f"other_{i}"))
        new.append(timed(f"new{i}@example.com", f"new_{i}"))

    ratio = statistics.median(existing) / statistics.median(new)
    assert 0.5 <= ratio <= 2.0, (existing, new)
