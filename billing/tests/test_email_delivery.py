"""Billing's e-mails through the outbox and a real SMTP server: a webhook whose e-mail cannot
be delivered still succeeds, and the e-mail goes out once the server is back (issue 14.8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from billing.models import BillingNotification
from billing.tests.factories import post_webhook
from outbox.delivery import email_send_due
from outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_the_dunning_email_is_not_lost_when_smtp_fails(billing, user, user_api_client, client, smtp_server):
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    smtp_server.outage("421 4.3.2 Service not available")
    billing.stripe.advance(days=15)
    results = billing.deliver()

    # Stripe got its 200: the once-only claim and the e-mail committed together.
    assert ("invoice.payment_failed", 200) in results
    assert BillingNotification.objects.filter(kind="payment_failed").count() == 1
    dunning = OutboundEmail.objects.get(subject__icontains="payment failed")
    assert dunning.status == "pending" and dunning.to == [user.email] and "421" in dunning.last_error
    assert smtp_server.refused and not smtp_server.messages

    # Stripe replays the event: still one e-mail.
    event = billing.stripe.events("invoice.payment_failed")[0]
    with billing.capture(execute=True):
        assert post_webhook(client, billing.endpoint, event).status_code == 200
    assert OutboundEmail.objects.filter(subject__icontains="payment failed").count() == 1

    # The server is back; the next sweep after the back-off delivers it, exactly once.
    smtp_server.outage(None)
    later = timezone.now() + timedelta(hours=2, seconds=settings.OUTBOX_SWEEP_GRACE_SECONDS)
    email_send_due(now=later)
    email_send_due(now=later + timedelta(hours=1))
    dunning.refresh_from_db()
    assert dunning.status == "sent"
    failed = [m for m in smtp_server.messages if "payment failed" in m["Subject"].lower()]
    assert len(failed) == 1
    assert failed[0]["To"] == user.email
    assert "/billing/" in failed[0].get_content()
