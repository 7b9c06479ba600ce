"""The SPA signs up and in through allauth.headless (browser client: session cookie + CSRF)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import SecurityEvent, User
from accounts.tests.auth_helpers import STRONG_PASSWORD, last_mail_to
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/_allauth/browser/v1"


class Spa:
    """A browser SPA: keeps cookies, sends the CSRF cookie back in X-CSRFToken on writes."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.get(f"{BASE}/config")  # sets the csrftoken cookie, as the SPA's first call

    def _csrf(self) -> str:
        return self.client.cookies["csrftoken"].value

    def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        if method == "get":
            return self.client.get(path)
        kwargs: dict[str, Any] = {"HTTP_X_CSRFTOKEN": self._csrf()}
        if data is None:
            return getattr(self.client, method)(path, **kwargs)
        return getattr(self.client, method)(path, json.dumps(data), content_type="application/json", **kwargs)


def _verification_key(email: str) -> str:
    match = re.search(r"/accounts/confirm-email/([^/\s]+)/", str(last_mail_to(email).body))
    assert match
    from urllib.parse import unquote

    return unquote(match.group(1))


def test_spec_is_served_and_linked_from_api_docs(client):
    assert client.get("/_allauth/openapi.html").status_code == 200
    spec = client.get("/_allauth/openapi.json")
    assert spec.status_code == 200
    assert "/_allauth/browser/v1/auth/login" in json.dumps(spec.json()["paths"])
    schema = client.get("/api/schema/?format=json").json()
    assert "/_allauth/openapi.html" in schema["info"]["description"]


def test_spa_signs_up_verifies_and_calls_the_api():
    spa = Spa()
    response = spa.call(
        "post",
        f"{BASE}/auth/signup",
        {"email": "spa@example.com", "username": "spauser", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 401  # signed up, verification pending
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["verify_email"]["is_pending"]
    assert spa.call("get", "/api/v1/security-events/").status_code in (401, 403)

    response = spa.call("post", f"{BASE}/auth/email/verify", {"key": _verification_key("spa@example.com")})

    assert response.status_code == 200
    assert response.json()["meta"]["is_authenticated"]
    events = spa.call("get", "/api/v1/security-events/")
    assert events.status_code == 200
    kinds = {e["kind"] for e in events.json()["results"]}
    assert {"email_verified", "login"} <= kinds


def test_spa_login_logout_with_csrf(user):
    spa = Spa()

    response = spa.call("post", f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 200
    assert response.json()["data"]["user"]["username"] == user.handle
    events = spa.call("get", "/api/v1/security-events/").json()["results"]
    assert events[0]["kind"] == "login"
    assert spa.call("delete", f"{BASE}/auth/session").status_code == 401
    assert spa.call("get", "/api/v1/security-events/").status_code in (401, 403)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGOUT).exists()


def test_spa_write_without_csrf_token_is_refused(user):
    spa = Spa()
    response = spa.client.post(
        f"{BASE}/auth/login",
        json.dumps({"email": user.email, "password": DEFAULT_PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN).exists()


def test_spa_wrong_password_is_a_400_and_logged(user):
    spa = Spa()
    response = spa.call("post", f"{BASE}/auth/login", {"email": user.email, "password": "wrong-password"})
    assert response.status_code == 400
    assert response.json()["errors"]
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED).exists()


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"email": "bad", "username": "okname", "password": STRONG_PASSWORD}, "email"),
        ({"email": "a@example.com", "username": "admin", "password": STRONG_PASSWORD}, "username"),
        ({"email": "a@example.com", "username": "okname", "password": "password"}, "password"),
    ],
)
def test_spa_signup_bad_input_is_a_400(payload, param):
    spa = Spa()
    response = spa.call("post", f"{BASE}/auth/signup", payload)
    assert response.status_code == 400
    assert param in {e.get("param") for e in response.json()["errors"]}
    assert not User.objects.filter(handle=payload["username"]).exists()


def test_spa_can_end_another_session(user):
    laptop, phone = Spa(), Spa()
    for spa in (laptop, phone):
        spa.call("post", f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    sessions = laptop.call("get", f"{BASE}/auth/sessions").json()["data"]
    other = next(s for s in sessions if not s["is_current"])

    response = laptop.call("delete", f"{BASE}/auth/sessions", {"sessions": [other["id"]]})

    assert response.status_code == 200
    assert phone.call("get", "/api/v1/security-events/").status_code in (401, 403)
    assert laptop.call("get", "/api/v1/security-events/").status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.SESSION_REVOKED).count() == 1


def test_spa_login_with_totp(user):
    import pyotp
    from allauth.mfa.totp.internal.auth import TOTP

    secret = pyotp.random_base32()
    TOTP.activate(user, secret)
    spa = Spa()

    response = spa.call("post", f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 401
    flows = {f["id"]: f for f in response.json()["data"]["flows"]}
    assert flows["mfa_authenticate"]["is_pending"]
    assert spa.call("get", "/api/v1/security-events/").status_code in (401, 403)

    wrong = spa.call("post", f"{BASE}/auth/2fa/authenticate", {"code": "000000"})
    assert wrong.status_code == 400
    right = spa.call("post", f"{BASE}/auth/2fa/authenticate", {"code": pyotp.TOTP(secret).now()})

    assert right.status_code == 200
    kinds = [e["kind"] for e in spa.call("get", "/api/v1/security-events/").json()["results"]]
    assert kinds[0] == "login"
    assert "login_failed" in kinds


def test_spa_password_reset(user):
    spa = Spa()
    assert spa.call("post", f"{BASE}/auth/password/request", {"email": user.email}).status_code == 200
    unknown = spa.call("post", f"{BASE}/auth/password/request", {"email": "nobody@example.com"})
    assert unknown.status_code == 200  # no enumeration
    match = re.search(r"/accounts/password/reset/key/([^/\s]+)/", str(last_mail_to(user.email).body))
    assert match
    key = match.group(1)

    weak = spa.call("post", f"{BASE}/auth/password/reset", {"key": key, "password": "password"})
    assert weak.status_code == 400
    response = spa.call("post", f"{BASE}/auth/password/reset", {"key": key, "password": STRONG_PASSWORD})

    assert response.status_code in (200, 401)  # 401: reset done, not signed in (no auto-login)
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    reused = spa.call("post", f"{BASE}/auth/password/reset", {"key": key, "password": "x" + STRONG_PASSWORD})
    assert reused.status_code == 400
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PASSWORD_RESET).exists()
