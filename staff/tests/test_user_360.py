"""The user 360 page: every part of one account on one page, without a secret, at the same
query cost whatever the user's history, for staff allowed to view users."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SecurityEvent
from accounts.services import security_event_record
from accounts.tests.factories import UserFactory
from audit.models import AuditEntry
from audit.services import audit_record
from integrations.services import api_key_issue
from referrals.models import Referral, Reward
from social.models import ModerationAction, Report
from staff.tests import stripe_rows as s

pytestmark = pytest.mark.django_db

SECRET = "NBSWY3DPEHPK3PXPNBSWY3DPEHPK3PXP"


def page_of(client, user) -> str:
    response = client.get(f"/admin/staff/useroverview/{user.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def add_history(person, other, staff, n: int) -> list[str]:
    tokens = []
    for i in range(n):
        security_event_record(user=person, kind=SecurityEvent.Kind.LOGIN)
        Report.objects.create(reporter=other, target_user=person, reason="spam", comment=f"c{i}")
        Report.objects.create(reporter=person, target_user=other, reason="hate")
        ModerationAction.objects.create(
            kind=ModerationAction.Kind.WARN, target_user=person, moderator=staff, note=f"n{i}"
        )
        audit_record(
            actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="user.note", target_user=person, reason=f"r{i}"
        )
        referred = UserFactory()
        referral = Referral.objects.create(
            referrer=person, referred=referred, code="X", source=Referral.Source.LINK
        )
        Reward.objects.create(
            referral=referral, beneficiary=person, amount_cents=500, hold_until=referral.created_at
        )
    if n:
        tokens.append(api_key_issue(user=person, name="ci", scopes=["posts:read"]).token)
    return tokens


def test_the_page_shows_each_part_of_the_account_and_never_a_secret(staff_client):
    client, staff = staff_client(superuser=True)
    person, other = UserFactory(handle="pat"), UserFactory(handle="quinn")
    TOTP.activate(person, SECRET)
    tokens = add_history(person, other, staff, 2)
    Referral.objects.create(referrer=other, referred=person, code="Q", source=Referral.Source.TYPED)
    cus = s.customer(person)
    pro = s.price(s.product("Pro"), cents=1920)
    s.subscription("sub_pat", cus, pro, status="active")
    s.invoice_paid("in_pat", cus, cents=1920, paid_at=person.date_joined)

    page = page_of(client, person)

    for text in ("@pat", person.email, "verified", "Two-factor", "Authenticator app", "Security log", "Signed in",
                 "Referred by @quinn", "People they referred", "Credit for the referrer", "$5.00",
                 "Reports they made", "Reports against them", "Moderation history", "User warned",
                 "Staff audit trail", "user.note", "$19.20", "Active"):  # fmt: skip
        assert text in page, text
    key = person.api_keys.get()
    assert key.public_id in page
    assert SECRET not in page
    assert tokens[0] not in page and key.secret_hash not in page
    assert f"/admin/audit/auditentry/?target_user__id__exact={person.pk}" in page
    assert f"/admin/staff/user/{person.pk}/impersonate/" in page


def test_the_audit_log_link_lists_only_entries_about_that_user(staff_client):
    client, staff = staff_client(superuser=True)
    person, other = UserFactory(), UserFactory()
    audit_record(actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="about.person", target_user=person)
    audit_record(actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="about.other", target_user=other)

    listing = client.get(f"/admin/audit/auditentry/?target_user__id__exact={person.pk}").content.decode()

    assert "about.person" in listing and "about.other" not in listing


def test_the_query_count_does_not_grow_with_the_history(staff_client):
    client, staff = staff_client(superuser=True)
    quiet, busy, other = UserFactory(), UserFactory(), UserFactory()
    add_history(quiet, other, staff, 1)
    add_history(busy, other, staff, 14)
    page_of(client, quiet)
    with CaptureQueriesContext(connection) as one:
        page_of(client, quiet)
    with CaptureQueriesContext(connection) as many:
        page = page_of(client, busy)
    assert len(many) == len(one)
    assert "Showing the newest 10" in page


def test_view_only_staff_see_the_page_without_edit_or_impersonation_buttons(staff_client):
    client, _ = staff_client("accounts.view_user")
    person = UserFactory()

    page = page_of(client, person)

    assert "Impersonate" not in page and "Edit account" not in page and "Account page" in page
    assert Authenticator.objects.filter(user=person).count() == 0


def test_staff_who_may_not_view_users_are_refused(staff_client):
    client, _ = staff_client("staff.view_dashboard")
    person = UserFactory()
    assert client.get(f"/admin/staff/useroverview/{person.pk}/change/").status_code == 403


def test_the_list_finds_a_user_by_handle(staff_client):
    client, _ = staff_client("accounts.view_user")
    UserFactory(handle="findme")
    UserFactory(handle="other")
    page = client.get("/admin/staff/useroverview/?q=findme").content.decode()
    assert "findme" in page and ">other<" not in page


def test_the_account_page_and_the_user_360_page_link_to_each_other(staff_client):
    client, _ = staff_client("accounts.view_user")
    person = UserFactory()
    account = client.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert f'href="/admin/staff/useroverview/{person.pk}/change/"' in account
    assert f'href="/admin/accounts/user/{person.pk}/change/">Account page<' in page_of(client, person)
    editor, _ = staff_client("accounts.view_user", "accounts.change_user")
    assert f'href="/admin/accounts/user/{person.pk}/change/">Edit account and actions<' in page_of(
        editor, person
    )
