"""Django's and allauth's e-mails go through the outbox when EMAIL_BACKEND is the outbox's
(production's setting; under pytest Django swaps in locmem, so these tests put it back)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives, send_mail

from outbox.delivery import email_send_due
from outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox_backend(settings):
    settings.EMAIL_BACKEND = "outbox.backends.OutboxEmailBackend"


def test_a_password_reset_email_survives_an_smtp_refusal(
    client, user, outbox_backend, smtp_server, django_capture_on_commit_callbacks, settings
):
    smtp_server.refuse(1, reply="451 4.3.0 Mailbox busy")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    row = OutboundEmail.objects.get()
    assert row.to == [user.email] and row.status == "pending" and "451" in row.last_error
    assert smtp_server.messages == []

    email_send_due(now=row.next_attempt_at + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS))
    [message] = smtp_server.messages
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", body)
    assert link, body
    # The link in the delivered e-mail works, and the row no longer holds it.
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200 and not page.context.get("token_fail")
    row.refresh_from_db()
    assert row.status == "sent" and link.group(1) not in row.text


def test_nothing_leaves_before_the_request_commits(client, outbox_backend, smtp_server):
    """Sign-up records its verification e-mail in the request's transaction; the test's
    transaction never commits, so nothing is sent, and the row waits for the send."""
    password = "lantern-quartz-meadow-4471"
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "username": "newbie", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    row = OutboundEmail.objects.get(to=["new@example.com"])
    assert row.status == "pending" and "/accounts/confirm-email/" in row.text
    assert smtp_server.messages == []


def test_send_mail_with_html_keeps_both_parts(
    outbox_backend, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("Hello", "Plain.", None, ["ann@example.com"], html_message="<p>Rich.</p>")
    [message] = smtp_server.messages
    assert message.get_body(("plain",)).get_content().strip() == "Plain."
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich.</p>"


def test_attachments_are_refused_rather_than_dropped(outbox_backend):
    message = EmailMessage("Hello", "Body", None, ["ann@example.com"])
    message.attach("a.txt", "content", "text/plain")
    with pytest.raises(ValueError, match="attachments"):
        message.send()
    other = EmailMultiAlternatives("Hello", "Body", None, ["ann@example.com"])
    other.attach_alternative("{}", "application/json")
    with pytest.raises(ValueError, match="application/json"):
        other.send()
    assert not OutboundEmail.objects.exists()
