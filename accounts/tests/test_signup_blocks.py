"""Sign-up blocks: staff add an e-mail domain or an IP network in the admin, and sign-ups from
it are refused on the page and in the SPA's API; other sign-ups go on."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SignupBlock, User
from accounts.tests.factories import staff_member
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def sign_up(email: str, ip: str = "198.51.100.1"):
    return Client(REMOTE_ADDR=ip).post(
        "/accounts/signup/",
        {
            "email": email,
            "username": email.split("@")[0][:20],
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
        },
    )


def block(kind: str, value: str) -> None:
    """Added through the admin's add form, as a moderator would."""
    client = Client()
    client.force_login(staff_member("Moderation"))
    response = client.post(
        "/admin/accounts/signupblock/add/", {"kind": kind, "value": value, "note": "spam wave"}
    )
    assert response.status_code == 302, response.content.decode()


def test_a_blocked_domain_and_its_subdomains_cannot_sign_up():
    block("email_domain", "@Spam.Example")
    assert SignupBlock.objects.get().value == "spam.example"
    assert AuditEntry.objects.filter(action="accounts.signupblock.add").exists()
    for email in ("new@spam.example", "new2@mx.spam.example"):
        response = sign_up(email)
        assert response.status_code == 200
        assert "Addresses at this domain cannot be used here." in response.content.decode()
    assert not User.objects.filter(email__endswith="spam.example").exists()
    assert sign_up("fine@notspam.example").status_code == 302
    assert User.objects.filter(email="fine@notspam.example").exists()


def test_a_blocked_network_cannot_sign_up_on_the_page_or_the_api():
    block("ip_network", "203.0.113.7/24")
    assert SignupBlock.objects.get().value == "203.0.113.0/24"
    response = sign_up("someone@example.org", ip="203.0.113.50")
    assert "Sign Up Closed" in response.content.decode() or "closed" in response.content.decode().lower()
    assert not User.objects.filter(email="someone@example.org").exists()
    api = Client(REMOTE_ADDR="203.0.113.9").post(
        "/_allauth/browser/v1/auth/signup",
        {"email": "api@example.org", "username": "api_user", "password": "a-long-passphrase-1"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert sign_up("other@example.org", ip="198.51.100.20").status_code == 302


def test_the_admin_refuses_a_malformed_block():
    client = Client()
    client.force_login(staff_member("Moderation"))
    for kind, value in (("email_domain", "not a domain"), ("ip_network", "999.1.1.1")):
        response = client.post("/admin/accounts/signupblock/add/", {"kind": kind, "value": value})
        assert response.status_code == 200
    assert not SignupBlock.objects.exists()
    # Support may not add blocks.
    support = Client()
    support.force_login(staff_member("Support"))
    assert support.get("/admin/accounts/signupblock/add/").status_code == 403
