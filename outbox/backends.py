"""``EMAIL_BACKEND`` of the project: every Django e-mail becomes an outbox row.

allauth's verification, password-reset and security-notice e-mails, Django's own and any
library's go through ``send_mail``/``EmailMessage.send()``: with this backend each is recorded in
the caller's transaction and delivered by the outbox's task through ``OUTBOX_DELIVERY_BACKEND``
(the transport ``EMAIL_URL`` names). One backend covers every sender, where an allauth adapter
override would cover allauth alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from outbox.services import email_enqueue_message


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Records each message; "sent" here means recorded, delivered after commit."""
        for message in email_messages:
            email_enqueue_message(message=message)
        return len(email_messages)
