"""Subscribing through Stripe Checkout on the stand-in, end to end."""

from __future__ import annotations

import pytest
from djstripe.models import Subscription

from billing.entitlements import entitlements_get_for_user

pytestmark = pytest.mark.django_db


def test_checkout_paid_with_4242_gives_an_active_plan(billing, user, user_api_client, client, mailoutbox):
    client.force_login(user)
    # Before paying, the success page waits for Stripe instead of trusting the redirect.
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    assert response.status_code == 201
    url = response.json()["url"]
    assert url.startswith(billing.stripe.base_url)
    assert 'data-state="processing"' in client.get("/billing/success/?session_id=cs_x").content.decode()

    page = billing.stripe.pay_checkout(url)
    assert page.status == 303
    assert "/billing/success/?session_id=cs_" in page.location
    results = billing.deliver()
    assert all(200 <= status < 300 for _, status in results)
    assert "checkout.session.completed" in {t for t, _ in results}

    body = client.get("/billing/success/").content.decode()
    assert 'data-state="ready"' in body
    entitlements = entitlements_get_for_user(user=user)
    assert entitlements.plan == "team" and entitlements.is_paid
    assert entitlements.max_post_length == 5000

    subscription = user_api_client.get("/api/v1/billing/subscription/").json()
    assert subscription["status"] == "active"
    assert subscription["plan"] == "team"
    assert subscription["amount"] == 2400
    invoices = user_api_client.get("/api/v1/billing/invoices/").json()["results"]
    assert [(i["status"], i["total"]) for i in invoices] == [("paid", 2400)]
    assert invoices[0]["hosted_invoice_url"] and invoices[0]["invoice_pdf"]
    card = user_api_client.get("/api/v1/billing/payment-method/").json()
    assert (card["brand"], card["last4"]) == ("visa", "4242")

    settings_page = client.get("/billing/").content.decode()
    assert "Team" in settings_page and "ending in 4242" in settings_page and "Renews on" in settings_page


def test_checkout_declined_with_0002_changes_nothing(billing, user, user_api_client):
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    page = billing.stripe.pay_checkout(response.json()["url"], card="4000000000000002")
    assert page.status != 303
    billing.deliver()
    assert not Subscription.objects.filter(customer__subscriber=user, stripe_data__status="active").exists()
    assert entitlements_get_for_user(user=user).plan == "free"
    # Checkout keeps the session open on a decline: no subscription, the person may retry.
    assert page.status == 402 or "declined" in page.text.lower()
    assert user_api_client.get("/api/v1/billing/subscription/").status_code == 404
    retry = billing.stripe.pay_checkout(response.json()["url"])
    assert retry.status == 303
