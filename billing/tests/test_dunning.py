"""Dunning and receipts (issue 14.7): a reminder before each Stripe retry and a final notice
before the downgrade, each once, with a link to update the card; a receipt with the invoice link
for every invoice that took money."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.dunning import dunning_notices_send
from billing.models import BillingNotification
from billing.tests.factories import post_webhook
from outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db

DAY = 86400


def _subjects(mailoutbox, text):
    return [m for m in mailoutbox if text in m.subject]


def _at(billing, *, days: float) -> datetime:
    """A moment on the stand-in's clock, counted from now."""
    return datetime.fromtimestamp(billing.stripe.now + days * DAY, tz=UTC)


def test_a_reminder_before_each_retry_and_a_final_notice_before_the_downgrade(
    billing, user, user_api_client, mailoutbox
):
    engine = billing.stripe.engine
    with engine.lock:  # the trial ends now, so Stripe's clock and the grace period's agree
        engine.now -= 14 * DAY
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=14)  # the first charge fails; Stripe retries in 3 days
    billing.deliver()
    assert len(_subjects(mailoutbox, "your payment failed")) == 1

    def sweep(days: float) -> None:
        with billing.capture(execute=True):
            dunning_notices_send(now=_at(billing, days=days))

    sweep(1)  # two days before the retry: too early
    assert not _subjects(mailoutbox, "we will retry your payment")
    sweep(2.5)
    sweep(2.6)  # the hourly sweep runs again: still one reminder
    reminders = _subjects(mailoutbox, "we will retry your payment")
    assert len(reminders) == 1 and reminders[0].to == [user.email]
    assert "/billing/#payment-method" in reminders[0].body and "/i/in_" in reminders[0].body

    billing.stripe.advance(days=3)  # the retry fails; the next one is 5 days later (day 8)
    billing.deliver()
    assert len(_subjects(mailoutbox, "your payment failed")) == 1  # the failure e-mail was once
    sweep(3.5)  # days after the current moment: day 6.5, the grace period (7 days) ends in 12 h
    finals = _subjects(mailoutbox, "your paid plan ends on")
    assert len(finals) == 1 and "moves to the Free plan" in finals[0].body
    assert "/billing/#payment-method" in finals[0].body
    sweep(3.6)
    assert len(_subjects(mailoutbox, "your paid plan ends on")) == 1
    assert len(_subjects(mailoutbox, "we will retry your payment")) == 1  # the day-8 retry: not yet
    sweep(4.5)  # day 7.5: 12 h before the second retry
    assert len(_subjects(mailoutbox, "we will retry your payment")) == 2
    assert OutboundEmail.objects.filter(dedupe_key__startswith="billing:dunning-").count() == 3


def test_no_reminder_once_the_invoice_is_paid(billing, user, user_api_client, mailoutbox):
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=15)
    billing.deliver()
    portal = user_api_client.post("/api/v1/billing/portal-session/").json()["url"]
    billing.stripe.portal(portal, "card", card_number="4242424242424242")  # pays the open invoice
    billing.deliver()
    with billing.capture(execute=True):
        dunning_notices_send(now=_at(billing, days=2.5))
    assert not _subjects(mailoutbox, "we will retry your payment")


def test_every_paid_invoice_gets_one_receipt_with_its_link(
    billing, user, user_api_client, client, mailoutbox
):
    billing.checkout(user_api_client, "team_monthly")
    receipts = _subjects(mailoutbox, "receipt for your payment of 24.00 USD")
    assert len(receipts) == 1 and receipts[0].to == [user.email]
    invoice = user_api_client.get("/api/v1/billing/invoices/").json()["results"][0]
    assert invoice["hosted_invoice_url"] in receipts[0].body
    # invoice.paid and invoice.payment_succeeded both came, and a replay comes: one receipt.
    event = billing.stripe.events("invoice.paid")[-1]
    with billing.capture(execute=True):
        assert post_webhook(client, billing.endpoint, event).status_code == 200
    assert BillingNotification.objects.filter(kind="payment_received").count() == 1

    billing.stripe.advance(days=31)  # the renewal
    billing.deliver()
    assert len(_subjects(mailoutbox, "receipt for your payment of 24.00 USD")) == 2


def test_a_trial_start_charges_nothing_and_sends_no_receipt(billing, user, user_api_client, mailoutbox):
    billing.checkout(user_api_client, "pro_monthly")
    assert not _subjects(mailoutbox, "receipt")
