"""The staff audit log: admin edits and deletes are recorded with the changed fields and the user
they were about, entries outlive both people, and nobody can change or delete one."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.admin_forms import form_data
from accounts.tests.factories import StaffUserFactory, UserFactory
from audit.models import AuditEntry
from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return StaffUserFactory(handle="maria")


@pytest.fixture
def staff_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_an_admin_edit_is_recorded_with_its_changed_fields_and_target(staff_client, staff):
    user = UserFactory(handle="victor")
    change_url = f"/admin/accounts/user/{user.pk}/change/"
    fields = form_data(staff_client.get(change_url).content.decode())
    fields["profile-0-display_name"] = ["Victor V."]

    response = staff_client.post(change_url, fields)

    assert response.status_code == 302, response.context["errors"]
    entry = AuditEntry.objects.get()
    assert entry.kind == AuditEntry.Kind.ADMIN_CHANGE
    assert entry.action == "accounts.user.change"
    assert entry.actor == staff and entry.target_user == user
    assert entry.target_label == f"@victor <{user.email}>"
    assert "Display name" in str(entry.details["fields"])


def test_entries_outlive_the_staff_member_and_the_target():
    staff = StaffUserFactory(handle="olga", email="olga@example.com")
    target = UserFactory(handle="tom", email="tom@example.com")
    audit_record(actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="user.suspend", obj=target, reason="spam")
    staff.delete()
    target.delete()
    entry = AuditEntry.objects.get()
    assert entry.actor is None and entry.target_user is None
    assert entry.actor_label == "@olga <olga@example.com>"
    assert entry.target_label == "@tom <tom@example.com>"
    assert entry.reason == "spam"


def test_the_audit_log_is_read_only_even_for_a_superuser(staff_client, staff):
    entry = audit_record(actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="user.suspend", target_user=staff)
    listing = staff_client.get("/admin/audit/auditentry/?q=suspend")
    assert listing.status_code == 200
    assert "user.suspend" in listing.content.decode()
    assert staff_client.get("/admin/audit/auditentry/add/").status_code == 403
    assert (
        staff_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    page = staff_client.get(f"/admin/audit/auditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_bulk_delete_is_not_offered_so_no_delete_escapes_the_log(staff_client):
    UserFactory()
    page = staff_client.get("/admin/accounts/user/")
    assert 'value="delete_selected"' not in page.content.decode()
