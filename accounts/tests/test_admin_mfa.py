"""13.10: staff never see or edit two-factor secrets; a reset is an explicit, logged, e-mailed act."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client

from accounts.models import SecurityEvent
from accounts.services.security import mfa_reset
from accounts.tests.factories import StaffUserFactory, UserFactory
from config.errors import PermissionDeniedError

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CHANGELIST = "/admin/mfa/authenticator/"


@pytest.fixture
def victim():
    user = UserFactory()
    TOTP.activate(user, SECRET)
    RecoveryCodes.activate(user)
    return user


def _staff(*perms: str, superuser: bool = False) -> Client:
    staff = StaffUserFactory(is_superuser=superuser)
    for codename in perms:
        staff.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_never_shows_a_secret_nor_lets_staff_edit_or_delete(victim):
    staff = _staff(superuser=True)
    totp = Authenticator.objects.get(user=victim, type=Authenticator.Type.TOTP)
    codes = Authenticator.objects.get(user=victim, type=Authenticator.Type.RECOVERY_CODES)

    listing = staff.get(CHANGELIST)
    page = staff.get(f"{CHANGELIST}{totp.pk}/change/")
    codes_page = staff.get(f"{CHANGELIST}{codes.pk}/change/")

    assert listing.status_code == page.status_code == codes_page.status_code == 200
    for response in (listing, page, codes_page):
        body = response.content.decode()
        assert SECRET not in body
        assert codes.data["seed"] not in body
        assert 'name="data"' not in body
    # Read-only: a POST changes nothing, and there is no delete page or add page.
    staff.post(f"{CHANGELIST}{totp.pk}/change/", {"data": '{"secret": "AAAA"}'})
    totp.refresh_from_db()
    assert totp.data["secret"] == SECRET
    assert staff.get(f"{CHANGELIST}{totp.pk}/delete/").status_code == 403
    assert staff.get(f"{CHANGELIST}add/").status_code == 403
    staff.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [totp.pk], "post": "yes"})
    assert Authenticator.objects.filter(user=victim).count() == 2


def test_the_reset_action_removes_every_method_logs_it_and_emails_the_user(
    victim, django_capture_on_commit_callbacks
):
    staff = _staff(superuser=True)
    totp = Authenticator.objects.get(user=victim, type=Authenticator.Type.TOTP)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            CHANGELIST,
            {"action": "reset_two_factor", "_selected_action": [totp.pk], "reason": "lost their phone"},
        )

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=victim).exists()
    event = SecurityEvent.objects.get(user=victim, kind=SecurityEvent.Kind.MFA_DISABLED)
    assert event.detail["methods"] == ["recovery_codes", "totp"]
    assert event.detail["reset_by_staff"]
    message = [m for m in mail.outbox if victim.email in m.to][-1]
    assert "Two-factor authentication was reset" in message.subject
    assert SECRET not in message.body


def test_a_reset_needs_the_permission_and_a_superuser_for_a_superuser(victim):
    viewer = StaffUserFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_authenticator"))
    with pytest.raises(PermissionDeniedError):
        mfa_reset(user=victim, actor=viewer)
    # Without the permission the action is not even offered.
    client = Client()
    client.force_login(viewer)
    totp = Authenticator.objects.get(user=victim, type=Authenticator.Type.TOTP)
    client.post(CHANGELIST, {"action": "reset_two_factor", "_selected_action": [totp.pk], "reason": "x"})
    assert Authenticator.objects.filter(user=victim).count() == 2

    resetter = StaffUserFactory(is_superuser=False)
    resetter.user_permissions.add(Permission.objects.get(codename="delete_authenticator"))
    boss = StaffUserFactory(two_factor=False)
    TOTP.activate(boss, SECRET)
    with pytest.raises(PermissionDeniedError):
        mfa_reset(user=boss, actor=resetter)
    assert mfa_reset(user=victim, actor=resetter) == ["recovery_codes", "totp"]
