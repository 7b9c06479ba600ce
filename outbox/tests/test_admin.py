"""Staff see pending and failed sends, read-only, and retry them with the permission to."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from audit.models import AuditEntry
from outbox.models import OutboundEmail
from outbox.services import email_enqueue

pytestmark = pytest.mark.django_db


def _staff(*codenames: str):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="outbox", codename__in=codenames)
    )
    return staff


@pytest.fixture
def failed_email(smtp_server, django_capture_on_commit_callbacks, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    smtp_server.refuse(1, reply="550 5.1.1 Mailbox unavailable")
    with django_capture_on_commit_callbacks(execute=True):
        row = email_enqueue(to="ann@example.com", subject="Your receipt", text="Secret link: /reset/abc/")
    row.refresh_from_db()
    assert row.status == "failed"
    return row


def test_staff_see_failed_sends_without_their_bodies(client, failed_email):
    client.force_login(_staff("view_outboundemail"))
    listing = client.get("/admin/outbox/outboundemail/?status__exact=failed")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "ann@example.com" in page and "Your receipt" in page and "550 5.1.1" in page
    detail = client.get(f"/admin/outbox/outboundemail/{failed_email.pk}/change/").content.decode()
    assert "Mailbox unavailable" in detail
    assert "/reset/abc/" not in detail
    # Read-only: no add, edit or delete.
    assert client.get("/admin/outbox/outboundemail/add/").status_code == 403
    assert client.post(f"/admin/outbox/outboundemail/{failed_email.pk}/delete/").status_code == 403


def test_retry_now_needs_the_permission(
    client, failed_email, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(_staff("view_outboundemail"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/outbox/outboundemail/", {"action": "retry_now", "_selected_action": [failed_email.pk]}
        )
    failed_email.refresh_from_db()
    assert failed_email.status == "failed"
    assert smtp_server.messages == []


def test_retry_now_sends_a_failed_email_once_and_is_in_the_audit_log(
    client, failed_email, smtp_server, django_capture_on_commit_callbacks
):
    staff = _staff("view_outboundemail", "retry_outboundemail")
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/outbox/outboundemail/",
            {"action": "retry_now", "_selected_action": [failed_email.pk]},
            follow=True,
        )
    assert "1 e-mail(s) queued for sending." in response.content.decode()
    failed_email.refresh_from_db()
    assert failed_email.status == "sent"
    assert [m["Subject"] for m in smtp_server.messages] == ["Your receipt"]
    entry = AuditEntry.objects.get(action="outbox.outboundemail.retry")
    assert entry.actor == staff and entry.kind == "outbox"
    assert entry.details == {"emails": [failed_email.pk], "selected": 1, "queued": 1}
    # Retrying a sent one sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/outbox/outboundemail/", {"action": "retry_now", "_selected_action": [failed_email.pk]}
        )
    assert len(smtp_server.messages) == 1


def test_the_list_costs_the_same_queries_for_one_row_or_many(client, django_assert_num_queries):
    client.force_login(_staff("view_outboundemail"))
    email_enqueue(to="a@example.com", subject="One", text="x")
    client.get("/admin/outbox/outboundemail/")  # warms the session and permission caches
    with CaptureQueriesContext(connection) as one:
        client.get("/admin/outbox/outboundemail/")
    for n in range(30):
        email_enqueue(to=f"a{n}@example.com", subject="Many", text="x")
    with django_assert_num_queries(len(one.captured_queries)):
        assert "Many" in client.get("/admin/outbox/outboundemail/").content.decode()
    assert OutboundEmail.objects.count() == 31
