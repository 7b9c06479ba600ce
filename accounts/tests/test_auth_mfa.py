"""Two-factor: TOTP with recovery codes, and WebAuthn passkeys (pages only), through the pages."""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail

from accounts.models import SecurityEvent
from accounts.tests.auth_helpers import last_mail_to, login, reauthenticate

pytestmark = pytest.mark.django_db

SECRET = pyotp.random_base32()


def _enable_totp(user) -> list[str]:
    """TOTP on with recovery codes, the way allauth's activation stores them; returns the codes."""
    TOTP.activate(user, SECRET)
    return RecoveryCodes.activate(user).get_unused_codes()


def _signed_in(client) -> bool:
    return client.get("/settings/security/").status_code == 200


def _code() -> str:
    """The code the user's authenticator app shows now."""
    return pyotp.TOTP(SECRET).now()


# --- Turning TOTP on and off --------------------------------------------------------------------


def test_two_factor_index_has_settings_sidebar_and_all_methods(client, user):
    login(client, user.email)
    response = client.get("/accounts/2fa/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/accounts/2fa/" aria-current="page"' in body
    assert "/accounts/2fa/totp/activate/" in body
    assert "/accounts/2fa/webauthn/" in body


def test_activate_totp_with_a_code_from_the_app(client, user, django_capture_on_commit_callbacks):
    login(client, user.email)
    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert "data:image/svg+xml" in page.content.decode()  # the QR code is inline, nothing external
    mail.outbox.clear()

    # allauth sends its signals and the e-mail once the activation is committed.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {"mfa_enabled", "recovery_codes_generated"} <= kinds
    assert (
        "authenticator" in last_mail_to(user.email).subject.lower()
        or "two-factor" in str(last_mail_to(user.email).body).lower()
    )
    codes_page = client.get("/accounts/2fa/recovery-codes/")
    assert codes_page.status_code == 200


@pytest.mark.parametrize("code", ["000000", "abcdef", "", "1234567"])
def test_activate_totp_with_a_wrong_code_is_refused(client, user, code):
    login(client, user.email)
    reauthenticate(client)
    client.get("/accounts/2fa/totp/activate/")

    response = client.post("/accounts/2fa/totp/activate/", {"code": code})

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not Authenticator.objects.filter(user=user).exists()


def test_activate_totp_requires_reauthentication(client, user):
    login(client, user.email)
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_deactivate_totp_notifies_and_logs(client, user):
    _enable_totp(user)
    login(client, user.email)
    client.post("/accounts/2fa/authenticate/", {"code": _code()})
    reauthenticate(client)
    mail.outbox.clear()

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.MFA_DISABLED).exists()
    assert last_mail_to(user.email)


def test_regenerate_recovery_codes_notifies_and_logs(client, user, django_capture_on_commit_callbacks):
    old_codes = _enable_totp(user)
    login(client, user.email)
    client.post("/accounts/2fa/authenticate/", {"code": _code()})
    reauthenticate(client)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/2fa/recovery-codes/generate/")

    assert response.status_code == 302
    new_codes = RecoveryCodes(Authenticator.objects.get(user=user, type="recovery_codes")).get_unused_codes()
    assert set(new_codes).isdisjoint(old_codes)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.RECOVERY_CODES_GENERATED).exists()
    assert last_mail_to(user.email)


# --- Signing in with TOTP -----------------------------------------------------------------------


def test_login_asks_for_a_code_and_a_right_code_signs_in(client, user):
    _enable_totp(user)

    response = login(client, user.email)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert not _signed_in(client)
    assert client.get("/accounts/2fa/authenticate/").status_code == 200

    response = client.post("/accounts/2fa/authenticate/", {"code": _code()})

    assert response.status_code == 302
    assert _signed_in(client)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN).count() == 1


@pytest.mark.parametrize("code", ["000000", "12345", "not-a-code", ""])
def test_wrong_totp_code_is_refused_and_logged(client, user, code):
    _enable_totp(user)
    login(client, user.email)

    response = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not _signed_in(client)
    if code:
        event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED)
        assert event.detail["reason"] == "two_factor_code"
    assert not SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN).exists()


def test_a_totp_code_cannot_be_replayed(client, user):
    _enable_totp(user)
    code = _code()
    login(client, user.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    client.post("/accounts/logout/")

    login(client, user.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": code})

    assert response.status_code == 200
    assert not _signed_in(client)


def test_the_previous_steps_code_is_still_accepted(client, user):
    _enable_totp(user)
    login(client, user.email)
    previous = pyotp.TOTP(SECRET).at(int(time.time()) - 30)  # MFA_TOTP_TOLERANCE = 1
    assert client.post("/accounts/2fa/authenticate/", {"code": previous}).status_code == 302
    assert _signed_in(client)


def test_code_page_without_a_password_first_does_not_sign_in(client, user):
    _enable_totp(user)
    response = client.post("/accounts/2fa/authenticate/", {"code": _code()})
    assert response.status_code in (302, 404)
    assert not _signed_in(client)


def test_recovery_code_signs_in_once_only(client, user):
    codes = _enable_totp(user)
    login(client, user.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert _signed_in(client)
    client.post("/accounts/logout/")

    login(client, user.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not _signed_in(client)
    # Another unused code still works.
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[1]}).status_code == 302


def test_admin_login_also_asks_for_the_code(client):
    from accounts.tests.factories import StaffUserFactory

    staff = StaffUserFactory(two_factor=False)  # the test sets up its own app
    _enable_totp(staff)
    client.get("/admin/")
    response = login(client, staff.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302
    client.post("/accounts/2fa/authenticate/", {"code": _code()})
    assert client.get("/admin/").status_code == 200


# --- WebAuthn -----------------------------------------------------------------------------------
# Registering or using a passkey needs a browser authenticator (navigator.credentials), which a
# test client cannot provide: these tests check that the feature is on and its pages render.


def test_webauthn_is_enabled(settings):
    assert "webauthn" in settings.MFA_SUPPORTED_TYPES
    assert settings.MFA_PASSKEY_LOGIN_ENABLED


def test_passkey_pages_render(client, user):
    login(client, user.email)
    reauthenticate(client)
    listing = client.get("/accounts/2fa/webauthn/")
    add = client.get("/accounts/2fa/webauthn/add/")
    assert listing.status_code == 200
    assert add.status_code == 200
    body = add.content.decode()
    assert 'class="sidebar"' in body
    assert "credentials" in body or "webauthn" in body.lower()  # the registration script is present


def test_passkey_login_endpoint_exists(client):
    response = client.get("/accounts/login/")
    assert (
        "/accounts/2fa/webauthn/login/" in response.content.decode()
        or "passkey_login" in response.content.decode()
    )
