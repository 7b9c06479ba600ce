"""Staff roles through the real admin: groups from the migration, two-factor before the admin
opens, the shorter admin session, each account action with its own permission, a reason, an
audit entry and an e-mail, the index by purpose, the sessions search and the CSV export."""

from __future__ import annotations

import csv
import io
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from accounts.models import SecurityEvent, User
from accounts.roles import ROLES
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    STAFF_TOTP_SECRET,
    StaffUserFactory,
    UserFactory,
    staff_member,
)
from audit.models import AuditEntry
from outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def emails_to(user: User) -> list[str]:
    """E-mails queued in the outbox for the user, and those Django sent (allauth's, which the
    test settings deliver to ``mail.outbox``)."""
    queued = [f"{e.subject}\n{e.text}" for e in OutboundEmail.objects.filter(to=[user.email]).order_by("pk")]
    return queued + [f"{m.subject}\n{m.body}" for m in mail.outbox if user.email in m.to]


def act(client: Client, action: str, users: list[User], reason: str = "support ticket 42"):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [u.pk for u in users], "reason": reason},
        follow=True,
    )


def signed_in_browser(user: User) -> Client:
    """A real browser sign-in: password, then the authenticator app's code."""
    browser = Client()
    browser.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    code = format_hotp_value(hotp_value(STAFF_TOTP_SECRET, next(yield_hotp_counters_from_time())))
    browser.post("/accounts/2fa/authenticate/", {"code": code})
    return browser


def test_the_migration_creates_the_roles_with_their_permissions():
    for name, perms in ROLES.items():
        group = Group.objects.get(name=name)
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert held == set(perms), name
    support = staff_member("Support")
    assert support.has_perm("accounts.assist_user") and not support.has_perm("accounts.suspend_user")
    assert not support.has_perm("accounts.change_user")


def test_staff_without_two_factor_get_the_setup_page_not_the_admin():
    staff = StaffUserFactory(two_factor=False)
    client = signed_in(staff)
    for url in ("/admin/", CHANGELIST, f"{CHANGELIST}{staff.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 403
        body = response.content.decode()
        assert "Set up two-factor authentication" in body
        assert 'href="/accounts/2fa/"' in body
    # Changing anything is refused the same way.
    victim = UserFactory()
    client.post(CHANGELIST, {"action": "deactivate", "_selected_action": [victim.pk], "reason": "x"})
    assert User.objects.get(pk=victim.pk).is_active
    # Sign-out still works; with an authenticator app the admin opens.
    assert client.post("/admin/logout/").status_code == 302
    assert "_auth_user_id" not in client.session
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert signed_in(staff).get("/admin/").status_code == 200


def test_a_real_sign_in_with_the_second_factor_opens_the_admin_until_the_staff_session_age(settings):
    staff = StaffUserFactory()
    browser = signed_in_browser(staff)
    assert browser.get("/admin/").status_code == 200

    settings.STAFF_SESSION_AGE = 3600
    session = browser.session
    for record in session["account_authentication_methods"]:
        record["at"] = time.time() - 3601  # signed in over an hour ago
    session.save()
    response = browser.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    assert "_auth_user_id" not in browser.session  # signed out, not only turned away


def test_a_session_without_a_sign_in_record_expires_from_its_first_admin_page(settings):
    settings.STAFF_SESSION_AGE = 60
    client = signed_in(StaffUserFactory())
    assert client.get("/admin/").status_code == 200
    session = client.session
    session["staff_admin_since"] = time.time() - 61
    session.save()
    assert client.get("/admin/").status_code == 302


def test_a_view_only_staff_member_can_look_and_change_nothing():
    viewer = staff_member(permissions=["accounts.view_user"])
    client = signed_in(viewer)
    victim = UserFactory(verified=False)
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(f"{CHANGELIST}{victim.pk}/change/").content.decode()
    assert 'name="email"' not in page  # a read-only page
    # No action is offered, and posting one changes nothing.
    listing = client.get(CHANGELIST).content.decode()
    assert 'name="action"' not in listing
    for action in (
        "deactivate",
        "mark_email_verified",
        "end_all_sessions",
        "reset_two_factor",
        "export_as_csv",
    ):
        act(client, action, [victim])
    victim.refresh_from_db()
    assert victim.is_active and not EmailAddress.objects.filter(user=victim, verified=True).exists()
    assert client.post(f"{CHANGELIST}{victim.pk}/change/", {"email": "x@example.com"}).status_code == 403
    assert not AuditEntry.objects.filter(actor=viewer).exists()


def test_support_runs_account_actions_with_a_reason_each_audited_and_emailed(
    django_capture_on_commit_callbacks,
):
    support = signed_in(staff_member("Support", handle="sam"))
    someone = UserFactory(verified=False)

    # Without a reason nothing happens.
    response = act(support, "resend_verification", [someone], reason="")
    assert "Type a reason" in response.content.decode()
    assert not AuditEntry.objects.exists()

    response = act(support, "resend_verification", [someone])
    assert "Verification e-mail sent: 1." in response.content.decode()
    assert any("confirm" in e.lower() for e in emails_to(someone)), emails_to(someone)

    act(support, "mark_email_verified", [someone])
    assert EmailAddress.objects.get(user=someone, email=someone.email).verified
    assert SecurityEvent.objects.filter(user=someone, kind=SecurityEvent.Kind.EMAIL_VERIFIED).exists()

    browser = Client()  # now they can sign in
    browser.post("/accounts/login/", {"login": someone.email, "password": DEFAULT_PASSWORD})
    assert browser.get("/settings/profile/").status_code == 200
    assert UserSession.objects.filter(user=someone).exists()
    with django_capture_on_commit_callbacks(execute=True):
        act(support, "end_all_sessions", [someone])
    assert not UserSession.objects.filter(user=someone).exists()
    assert browser.get("/settings/profile/").status_code == 302  # signed out
    assert any("signed out everywhere" in e and "support ticket 42" in e for e in emails_to(someone))

    assert list(
        AuditEntry.objects.filter(target_user=someone).order_by("pk").values_list("action", "reason")
    ) == [
        ("user.email_verification_resend", "support ticket 42"),
        ("user.email_mark_verified", "support ticket 42"),
        ("user.sessions_end_all", "support ticket 42"),
    ]
    assert AuditEntry.objects.filter(actor_label__startswith="@sam").count() == 3


def test_support_resets_two_factor_from_the_user_list_without_seeing_secrets():
    support = signed_in(staff_member("Support"))
    someone = UserFactory(two_factor=True)
    response = act(support, "reset_two_factor", [someone], reason="lost phone, identity checked")
    assert "Two-factor authentication reset: 1." in response.content.decode()
    assert not Authenticator.objects.filter(user=someone).exists()
    entry = AuditEntry.objects.get(action="user.mfa_reset")
    assert entry.target_user == someone and entry.reason == "lost phone, identity checked"
    assert entry.kind == AuditEntry.Kind.SECURITY
    assert STAFF_TOTP_SECRET not in str(entry.details)


def test_support_may_not_suspend_and_moderation_may_not_touch_a_superuser():
    someone, boss = UserFactory(), StaffUserFactory()
    support = signed_in(staff_member("Support"))
    assert "deactivate" not in support.get(CHANGELIST).content.decode()
    act(support, "deactivate", [someone])
    assert User.objects.get(pk=someone.pk).is_active

    moderator = signed_in(staff_member("Moderation"))
    response = act(moderator, "deactivate", [someone, boss])
    assert "Only a superuser may do this to a superuser." in response.content.decode()
    assert not User.objects.get(pk=someone.pk).is_active
    assert User.objects.get(pk=boss.pk).is_active
    assert any("deactivated" in e for e in emails_to(someone))

    response = act(moderator, "reactivate", [someone], reason="appeal accepted")
    assert User.objects.get(pk=someone.pk).is_active
    assert AuditEntry.objects.filter(action="user.reactivate", reason="appeal accepted").exists()
    assert any("active again" in e and "appeal accepted" in e for e in emails_to(someone))

    # A superuser may deactivate another superuser.
    act(signed_in(StaffUserFactory()), "deactivate", [boss])
    assert not User.objects.get(pk=boss.pk).is_active


def test_only_superusers_grant_staff_rights_in_the_user_form():
    editor = staff_member(permissions=["accounts.view_user", "accounts.change_user"])
    page = signed_in(editor).get(f"{CHANGELIST}{UserFactory().pk}/change/").content.decode()
    assert 'name="email"' in page
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    # Nor may they edit a superuser, set a superuser's password or delete one.
    boss = StaffUserFactory()
    client = signed_in(editor)
    assert 'name="email"' not in client.get(f"{CHANGELIST}{boss.pk}/change/").content.decode()
    password_form = {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"}
    assert client.post(f"{CHANGELIST}{boss.pk}/password/", password_form).status_code == 403
    assert client.post(f"{CHANGELIST}{boss.pk}/delete/", {"post": "yes"}).status_code == 403
    boss.refresh_from_db()
    assert boss.check_password(DEFAULT_PASSWORD)


def test_the_index_groups_what_staff_use_and_hides_dj_stripe_machinery():
    client = signed_in(StaffUserFactory())
    body = client.get("/admin/").content.decode()
    headings = [
        name for name in ("Users", "Moderation", "Billing", "Referrals", "API keys", "Audit and e-mail")
    ]
    positions = [body.index(f">{name}</a>") for name in headings]
    assert positions == sorted(positions)
    assert "/admin/djstripe/subscription/" in body and "/admin/djstripe/invoice/" in body
    for machinery in (
        "/admin/djstripe/apikey/",
        "/admin/djstripe/taxrate/",
        "/admin/djstripe/webhookendpoint/",
    ):
        assert machinery not in body
    # A moderator's index shows only what they may open.
    moderator_index = signed_in(staff_member("Moderation")).get("/admin/").content.decode()
    assert "/admin/social/report/" in moderator_index and "/admin/djstripe/" not in moderator_index


def test_the_sessions_admin_searches_by_email_and_handle():
    someone = UserFactory(handle="findme_handle")
    browser = Client()
    browser.post("/accounts/login/", {"login": someone.email, "password": DEFAULT_PASSWORD})
    client = signed_in(StaffUserFactory())
    for query in ("findme_handle", someone.email, "127.0.0.1", "nobody"):
        response = client.get("/admin/usersessions/usersession/", {"q": query})
        assert response.status_code == 200
    assert len(client.get("/admin/usersessions/usersession/", {"q": "findme"}).context["cl"].result_list) == 1
    assert (
        client.get(
            f"/admin/usersessions/usersession/{UserSession.objects.get(user=someone).pk}/delete/"
        ).status_code
        == 403
    )


def test_the_user_list_exports_as_csv_with_the_export_permission_only():
    UserFactory(email="csv@example.com", handle="csv_person")
    UserFactory(email="=cmd@example.com", handle="formula")
    exporter = signed_in(staff_member("Support"))
    response = exporter.post(
        CHANGELIST, {"action": "export_as_csv", "select_across": "1", "_selected_action": ["0"]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["e-mail address", "handle"]
    assert ["csv@example.com", "csv_person"] in [row[:2] for row in rows]
    assert ["'=cmd@example.com", "formula"] in [row[:2] for row in rows]  # not a formula
    entry = AuditEntry.objects.get(action="accounts.user.export_csv")
    assert entry.kind == "export" and entry.actor_label.startswith("@") and entry.details["rows"] >= 2

    moderator = signed_in(staff_member("Moderation"))  # may view users, not export them
    response = moderator.post(
        CHANGELIST, {"action": "export_as_csv", "select_across": "1", "_selected_action": ["0"]}
    )
    assert not response.get("Content-Type", "").startswith("text/csv")
    assert AuditEntry.objects.filter(kind="export").count() == 1  # the refusal exported nothing
