"""Delivery of outbox rows: one attempt at a time, marked sent only once the server accepted.

Called by the Celery tasks in ``outbox.tasks``; nothing else sends the outbox's e-mail.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboundEmail

logger = logging.getLogger(__name__)

# A sweep stops starting new sends after this long, well inside CELERY_TASK_TIME_LIMIT.
SWEEP_TIME_BUDGET_SECONDS = 120
SWEEP_BATCH = 200


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt did: ``sent`` when the server accepted the message; ``retry_in`` (seconds)
    when it failed and another attempt is due; neither when there was nothing to do (already sent,
    failed for good, or being sent by another worker right now)."""

    sent: bool = False
    retry_in: int | None = None


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones: exponential, capped."""
    base: int = settings.OUTBOX_RETRY_BASE_SECONDS
    cap: int = settings.OUTBOX_RETRY_MAX_SECONDS
    return int(min(cap, base * 2 ** max(0, attempts - 1)))


def email_send(*, email_id: int) -> SendOutcome:
    """One delivery attempt of a pending e-mail through ``OUTBOX_DELIVERY_BACKEND``.

    The row stays locked for the whole SMTP conversation, so a retry and the sweep never send
    the same row at once (a locked row is skipped, not waited for). It becomes ``sent`` only
    after the server accepted the message; any failure is recorded on the row (attempts, last
    error, next attempt with exponential back-off) and it becomes ``failed`` after
    ``OUTBOX_MAX_ATTEMPTS``. Delivery is at least once: a crash between the server's acceptance
    and the commit sends it again (with the same Message-ID, so clients can tell).
    """
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return SendOutcome()
        now = timezone.now()
        email.attempts += 1
        email.last_attempt_at = now
        try:
            _deliver(email)
        except Exception as exc:  # noqa: BLE001  (every transport failure is recorded and retried)
            return _record_failure(email, exc, now=now)
        email.status = OutboundEmail.Status.SENT
        email.sent_at = timezone.now()
        email.last_error = ""
        # The bodies may carry sign-in or password-reset links: they are not kept once delivered.
        email.text = email.html = ""
        email.save(
            update_fields=["status", "sent_at", "last_error", "text", "html", "attempts", "last_attempt_at"]
        )
    return SendOutcome(sent=True)


def email_send_due(*, now: datetime | None = None) -> int:
    """The sweep (beat, every minute): one attempt for each pending e-mail whose attempt is
    overdue by ``OUTBOX_SWEEP_GRACE_SECONDS`` (its task was lost: a broker restart, a worker
    killed, or tasks running inline, which never retry later). Returns how many were sent."""
    now = now or timezone.now()
    started = time.monotonic()
    due = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    sent = 0
    for email_id in due:
        if time.monotonic() - started > SWEEP_TIME_BUDGET_SECONDS:
            break
        sent += email_send(email_id=email_id).sent
    return sent


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        headers=email.headers,
    )
    if email.html and email.text:
        message.attach_alternative(email.html, "text/html")
    elif email.html:
        message.body = email.html
        message.content_subtype = "html"
    return message


def _deliver(email: OutboundEmail) -> None:
    connection = get_connection(settings.OUTBOX_DELIVERY_BACKEND, fail_silently=False)
    connection.open()
    try:
        accepted = connection.send_messages([_message(email)])
    finally:
        # The server has answered DATA by now: a failed QUIT must not turn into a second copy.
        with contextlib.suppress(Exception):
            connection.close()
    if not accepted:
        raise RuntimeError("The e-mail backend did not accept the message.")


def _describe(exc: Exception) -> str:
    """The server's reply as staff read it: "550 5.1.1 Mailbox unavailable"."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}" for address, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _record_failure(email: OutboundEmail, exc: Exception, *, now: datetime) -> SendOutcome:
    email.last_error = _describe(exc)[:2000]
    retry_in: int | None = None
    if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        email.status = OutboundEmail.Status.FAILED
        logger.error("outbox: e-mail %s failed for good after %s attempts", email.pk, email.attempts)
    else:
        retry_in = retry_delay(email.attempts)
        email.next_attempt_at = now + timedelta(seconds=retry_in)
        # The class only: the row (visible to staff) keeps the server's words, which may
        # quote recipient addresses.
        logger.warning(
            "outbox: sending e-mail %s failed (attempt %s, %s); next attempt in %ss",
            email.pk,
            email.attempts,
            type(exc).__name__,
            retry_in,
        )
    email.save(update_fields=["status", "last_error", "next_attempt_at", "attempts", "last_attempt_at"])
    return SendOutcome(retry_in=retry_in)
