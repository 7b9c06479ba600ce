"""The outbox against a real SMTP server on loopback: refused, retried, delivered once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction

from outbox.delivery import email_send_due
from outbox.models import OutboundEmail
from outbox.services import email_enqueue

pytestmark = pytest.mark.django_db


def _after_backoff(row: OutboundEmail) -> object:
    """The moment the sweep takes a row up: its next attempt is due and the grace is over."""
    return row.next_attempt_at + timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("RCPT", "451 4.3.0 Try again later"), ("DATA", "554 5.7.1 Transaction failed")],
)
def test_a_refused_email_stays_pending_then_is_delivered_exactly_once(
    smtp_server, django_capture_on_commit_callbacks, stage, reply
):
    smtp_server.refuse(1, at=stage, reply=reply)
    with django_capture_on_commit_callbacks(execute=True):
        row = email_enqueue(to="ann@example.com", subject="Your receipt", text="Thank you.")

    row.refresh_from_db()
    assert smtp_server.refused == [reply]
    assert smtp_server.messages == []
    assert row.status == "pending"
    assert row.attempts == 1
    assert reply.split()[0] in row.last_error
    assert row.sent_at is None
    assert row.next_attempt_at > row.last_attempt_at  # backed off

    assert email_send_due(now=_after_backoff(row)) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 2
    [message] = smtp_server.messages
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Your receipt"
    assert message.get_content().strip() == "Thank you."
    # The bodies are not kept once delivered (they may hold sign-in links).
    assert row.text == ""

    # Later sweeps and a replayed task send nothing more.
    assert email_send_due(now=_after_backoff(row) + timedelta(hours=2)) == 0
    from outbox.tasks import email_send

    email_send.delay(email_id=row.pk)
    assert len(smtp_server.messages) == 1


def test_every_attempt_carries_the_same_message_id(smtp_server, django_capture_on_commit_callbacks):
    smtp_server.refuse(1)
    with django_capture_on_commit_callbacks(execute=True):
        row = email_enqueue(to="ann@example.com", subject="Hello", text="Hi.")
    row.refresh_from_db()
    email_send_due(now=_after_backoff(row))
    [message] = smtp_server.messages
    assert message["Message-ID"] == row.headers["Message-ID"]


def test_back_off_doubles_and_the_last_attempt_marks_it_failed(
    smtp_server, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.refuse(3, reply="451 4.3.0 Try again later")
    with django_capture_on_commit_callbacks(execute=True):
        row = email_enqueue(to="ann@example.com", subject="Hello", text="Hi.")
    delays = []
    for _ in range(2):
        row.refresh_from_db()
        delays.append((row.next_attempt_at - row.last_attempt_at).total_seconds())
        email_send_due(now=_after_backoff(row))
    row.refresh_from_db()
    assert delays == [settings.OUTBOX_RETRY_BASE_SECONDS, 2 * settings.OUTBOX_RETRY_BASE_SECONDS]
    assert row.status == "failed" and row.attempts == 3
    assert smtp_server.messages == []
    # A failed row is not swept again: staff retry it from the admin (test_admin).
    assert email_send_due(now=_after_backoff(row) + timedelta(days=1)) == 0
    assert len(smtp_server.refused) == 3


def test_nothing_is_recorded_or_sent_when_the_decision_rolls_back(
    smtp_server, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_enqueue(to="ann@example.com", subject="Hello", text="Hi.")
        raise RuntimeError("the decision failed")
    assert not OutboundEmail.objects.exists()
    assert smtp_server.messages == []


def test_a_dedupe_key_makes_one_email_however_often_the_cause_replays(
    smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = email_enqueue(to="ann@example.com", subject="Notice", text="Once.", dedupe_key="notice:1")
    with django_capture_on_commit_callbacks(execute=True):
        again = email_enqueue(to="ann@example.com", subject="Notice", text="Once.", dedupe_key="notice:1")
    assert again.pk == first.pk
    assert OutboundEmail.objects.count() == 1
    assert len(smtp_server.messages) == 1


@pytest.fixture
def email_templates(settings, tmp_path):
    """A template set of the outbox's convention: <name>_subject.txt, <name>.txt, <name>.html."""
    folder = tmp_path / "templates" / "demo"
    folder.mkdir(parents=True)
    (folder / "receipt_subject.txt").write_text("{{ site_name }}: receipt {{ number }}\n")
    (folder / "receipt.txt").write_text("Paid {{ amount }}.")
    (folder / "receipt.html").write_text("<p>Paid <b>{{ amount }}</b>.</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path / "templates"]}]


def test_templates_are_rendered_when_the_email_is_recorded(
    smtp_server, email_templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = email_enqueue(
            to="ann@example.com",
            template="demo/receipt",
            context={"site_name": "Relay", "number": 7, "amount": "12.50 EUR"},
        )
    assert (row.subject, row.text) == ("Relay: receipt 7", "Paid 12.50 EUR.")
    [message] = smtp_server.messages
    assert message["Subject"] == "Relay: receipt 7"
    assert message.get_body(("plain",)).get_content().strip() == "Paid 12.50 EUR."
    assert message.get_body(("html",)).get_content().strip() == "<p>Paid <b>12.50 EUR</b>.</p>"


def test_an_email_without_recipient_or_body_is_refused():
    with pytest.raises(ValueError, match="recipient"):
        email_enqueue(to=[], subject="Hello", text="Hi.")
    with pytest.raises(ValueError, match="body"):
        email_enqueue(to="ann@example.com", subject="Hello")


@pytest.mark.django_db(transaction=True)
def test_the_row_is_marked_sent_only_after_the_server_accepted(smtp_server):
    """Real commits: at the instant before the server answers 250, the row (read from another
    connection, as staff's admin page would) still says pending; afterwards it says sent."""
    seen: list[str] = []

    def read_status_elsewhere(message):
        def read() -> None:
            try:
                seen.append(OutboundEmail.objects.get(subject=message["Subject"]).status)
            finally:
                connection.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    smtp_server.before_accept = read_status_elsewhere
    with transaction.atomic():
        row = email_enqueue(to="ann@example.com", subject="Hello there", text="Hi.")
    # Committed: the on-commit task ran inline and delivered it.
    row.refresh_from_db()
    assert seen == ["pending"]
    assert row.status == "sent"
    assert len(smtp_server.messages) == 1
