"""The one way the product sends e-mail: ``email_enqueue`` records it in the caller's transaction.

The row commits (or rolls back) with the decision that caused it; once it has committed, a
Celery task delivers it (``outbox.tasks.email_send``), retrying with back-off, and the beat sweep
catches any task that was lost. Django's own ``send_mail``/``EmailMessage.send()`` (allauth's
e-mails included) come here too, through ``outbox.backends.OutboxEmailBackend``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from outbox import tasks
from outbox.models import OutboundEmail


@transaction.atomic
def email_enqueue(
    *,
    to: str | Sequence[str],
    template: str | None = None,
    context: Mapping[str, Any] | None = None,
    subject: str = "",
    text: str = "",
    html: str = "",
    dedupe_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    from_email: str | None = None,
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
) -> OutboundEmail:
    """Records an e-mail for delivery after the caller's transaction commits; returns its row.

    With ``template``, renders ``<template>_subject.txt``, ``<template>.txt`` and, when it
    exists, ``<template>.html`` with ``context`` now (so the e-mail says what was true at the
    decision); otherwise ``subject`` and ``text`` and/or ``html`` are the message.
    ``dedupe_key`` makes a once-only message: a second call with the same key (a replayed
    webhook, a rerun job) returns the first row and sends nothing more. Call it inside the
    transaction of the decision: nothing is sent if that rolls back.
    """
    if template is not None:
        subject, text, html = _render(template, context or {})
    recipients = [to] if isinstance(to, str) else list(to)
    subject = " ".join(subject.split())
    if not recipients or not subject or not (text or html):
        raise ValueError("An e-mail needs a recipient, a subject and a body.")
    if dedupe_key is not None:
        existing = OutboundEmail.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    row = OutboundEmail(
        to=recipients,
        cc=list(cc),
        bcc=list(bcc),
        reply_to=list(reply_to),
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        text=text,
        html=html,
        headers=_with_message_id(headers or {}),
        dedupe_key=dedupe_key,
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if dedupe_key is None:
            raise
        # A concurrent transaction recorded the same once-only message first (we waited for
        # it on the unique index): that one is the e-mail.
        return OutboundEmail.objects.get(dedupe_key=dedupe_key)
    _queue_send_on_commit(row.pk)
    return row


def email_enqueue_message(*, message: EmailMessage) -> OutboundEmail:
    """Records a Django ``EmailMessage`` (the e-mail backend's path, e.g. allauth's e-mails).

    Attachments and alternatives other than HTML are refused: no e-mail of the product has
    them, and the outbox row does not carry them."""
    html = ""
    text = str(message.body)
    if isinstance(message, EmailMultiAlternatives):
        for content, mimetype in message.alternatives:
            if mimetype != "text/html" or html:
                raise ValueError(f"The outbox carries one text/html alternative, not {mimetype}.")
            html = str(content)
    if message.content_subtype == "html":
        html, text = text, ""
    if message.attachments:
        raise ValueError("The outbox does not carry attachments.")
    return email_enqueue(
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        from_email=message.from_email,
        subject=str(message.subject),
        text=text,
        html=html,
        headers=message.extra_headers,
    )


@transaction.atomic
def email_retry(*, email_ids: Iterable[int]) -> int:
    """Staff's "retry now": pending or failed e-mails get a fresh run of attempts, starting now
    (after commit). Sent ones are left alone. Returns how many were queued. The caller checks
    the ``outbox.retry_outboundemail`` permission."""
    ids = list(
        OutboundEmail.objects.select_for_update()
        .filter(pk__in=list(email_ids))
        .exclude(status=OutboundEmail.Status.SENT)
        .values_list("pk", flat=True)
    )
    OutboundEmail.objects.filter(pk__in=ids).update(
        status=OutboundEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    for email_id in ids:
        _queue_send_on_commit(email_id)
    return len(ids)


def _queue_send_on_commit(email_id: int) -> None:
    # Robust: if the broker is unreachable after commit, the error is logged, the caller's
    # request still succeeds, and the row stays pending for the sweep.
    transaction.on_commit(lambda: tasks.email_send.delay(email_id=email_id), robust=True)


def _render(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    subject = render_to_string(f"{template}_subject.txt", dict(context))
    text = render_to_string(f"{template}.txt", dict(context))
    try:
        html_template = get_template(f"{template}.html")
    except TemplateDoesNotExist:
        return subject, text, ""
    return subject, text, html_template.render(dict(context))


def _with_message_id(headers: Mapping[str, str]) -> dict[str, str]:
    """The Message-ID is fixed now, so every attempt (and any duplicate a crash causes) carries
    the same one and mail clients show one message."""
    result = dict(headers)
    if not any(name.lower() == "message-id" for name in result):
        result["Message-ID"] = make_msgid(domain=str(DNS_NAME))
    return result
