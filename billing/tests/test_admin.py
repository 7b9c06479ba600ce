"""Admin: a customer's page shows its user, subscriptions and invoices; failed webhook
deliveries can be filtered and reprocessed."""

from __future__ import annotations

import pytest
import stripe
from djstripe.models import Customer, Event, WebhookEventTrigger

from accounts.tests.factories import StaffUserFactory
from billing.tests.factories import post_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


def test_customer_page_shows_user_subscription_and_invoices(billing, user, user_api_client, staff_client):
    billing.checkout(user_api_client, "team_monthly")
    customer = Customer.objects.get(subscriber=user)
    page = staff_client.get(f"/admin/djstripe/customer/{customer.djstripe_id}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert str(user.pk) in body
    assert "subscriptions" in body.lower() and "invoice" in body.lower()
    invoice_id = user_api_client.get("/api/v1/billing/invoices/").json()["results"][0]["id"]
    assert invoice_id in body
    listing = staff_client.get("/admin/djstripe/customer/?q=" + user.handle)
    assert customer.id in listing.content.decode()


def test_failed_deliveries_are_listed_and_reprocessed(billing, user, user_api_client, staff_client, client):
    billing.checkout(user_api_client, "team_monthly")
    # A new event the worker cannot process (Stripe unreachable): acknowledged, kept as failed.
    event = dict(billing.stripe.events("invoice.paid")[0], id="evt_00000001AdminReprocess00")
    base = stripe.api_base
    stripe.api_base = "http://127.0.0.1:9"
    try:
        with billing.capture(execute=True):
            assert post_webhook(client, billing.endpoint, event).status_code == 200
    finally:
        stripe.api_base = base
    trigger = WebhookEventTrigger.objects.get(valid=True, processed=False)
    listing = staff_client.get("/admin/djstripe/webhookeventtrigger/?outcome=failed")
    assert listing.status_code == 200 and f"id={trigger.pk}" in listing.content.decode()
    response = staff_client.post(
        "/admin/djstripe/webhookeventtrigger/",
        {"action": "reprocess_failed", "_selected_action": [trigger.pk]},
        follow=True,
    )
    assert "Reprocessed 1, still failing 0, skipped 0." in response.content.decode()
    trigger.refresh_from_db()
    assert trigger.processed and Event.objects.filter(id=event["id"]).exists()


def test_refund_sends_one_email(billing, user, user_api_client, mailoutbox):
    billing.checkout(user_api_client, "team_monthly")
    charge = stripe.Charge.list(limit=1).data[0]
    stripe.Refund.create(charge=charge.id, amount=500)
    results = billing.deliver()
    assert ("charge.refunded", 200) in results
    refunds = [m for m in mailoutbox if "refund" in m.subject.lower()]
    assert len(refunds) == 1 and "5.00 USD" in refunds[0].body
