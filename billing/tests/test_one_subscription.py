"""One user, at most one live subscription (issue 14.1): a second checkout is refused, the
other open checkouts expire when one completes, and a second one Stripe still completes is
cancelled and refunded automatically, with an e-mail saying so."""

from __future__ import annotations

import pytest
import stripe
from djstripe.models import Subscription

from billing.customers import customer_get_or_create
from billing.entitlements import entitlements_get_for_user
from outbox.models import OutboundEmail

pytestmark = pytest.mark.django_db


def _open_checkout(api, price_id):
    return api.post("/api/v1/billing/checkout-session/", {"price_id": price_id}, format="json")


def _session_behind_our_back(billing, user, lookup_key):
    """A session opened before the refusal could see the first one (a race, an old tab)."""
    customer = customer_get_or_create(user=user)
    return stripe.checkout.Session.create(
        mode="subscription",
        customer=customer.id,
        client_reference_id=str(user.pk),
        line_items=[{"price": billing.prices[lookup_key], "quantity": 1}],
        success_url="http://testserver/billing/success/?session_id={CHECKOUT_SESSION_ID}",
    )


def test_a_second_checkout_is_refused_while_one_is_open(billing, user, user_api_client, client):
    first = _open_checkout(user_api_client, billing.prices["team_monthly"])
    assert first.status_code == 201
    # The same plan again: the same checkout, not a second one.
    again = _open_checkout(user_api_client, billing.prices["team_monthly"])
    assert again.status_code == 201 and again.json()["url"] == first.json()["url"]
    other = _open_checkout(user_api_client, billing.prices["pro_monthly"])
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "checkout_in_progress"
    assert len(billing.stripe.engine.all("checkout.session")) == 1

    # On the page: a clear message and a way to start over.
    client.force_login(user)
    page = client.post("/billing/subscribe/", {"price_id": billing.prices["pro_monthly"]}, follow=True)
    body = page.content.decode()
    assert "checkout in progress for another plan" in body and "Cancel the other checkout" in body
    cancelled = client.post("/billing/checkout/cancel/", follow=True).content.decode()
    assert "The other checkout was cancelled" in cancelled
    assert [s["status"] for s in billing.stripe.engine.all("checkout.session")] == ["expired"]
    assert _open_checkout(user_api_client, billing.prices["pro_monthly"]).status_code == 201


def test_a_second_checkout_is_refused_while_a_subscription_is_live_in_stripe(billing, user, user_api_client):
    first = _open_checkout(user_api_client, billing.prices["team_monthly"])
    billing.stripe.pay_checkout(first.json()["url"])
    # The webhooks have not arrived yet: Stripe, not the local copy, says the user pays.
    response = _open_checkout(user_api_client, billing.prices["pro_monthly"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_subscribed"


def test_completing_one_checkout_expires_the_others(billing, user, user_api_client):
    stale = _session_behind_our_back(billing, user, "pro_monthly")
    team = _session_behind_our_back(billing, user, "team_monthly")
    billing.stripe.pay_checkout(team)
    billing.deliver()
    assert billing.stripe.engine.get("checkout.session", stale["id"])["status"] == "expired"
    assert billing.stripe.pay_checkout(stale).status != 303  # nothing left to pay twice
    assert entitlements_get_for_user(user=user).plan == "team"


def test_the_api_cancels_open_checkouts(billing, user, user_api_client):
    assert _open_checkout(user_api_client, billing.prices["team_monthly"]).status_code == 201
    response = user_api_client.post("/api/v1/billing/checkout-session/expire/")
    assert response.status_code == 200 and response.json() == {"expired": 1}
    assert _open_checkout(user_api_client, billing.prices["pro_monthly"]).status_code == 201


def test_a_second_completed_checkout_is_cancelled_refunded_and_the_user_told(
    billing, user, user_api_client, mailoutbox
):
    team = _session_behind_our_back(billing, user, "team_monthly")
    second = _session_behind_our_back(billing, user, "team_yearly")
    # Both paid before any webhook arrived: Stripe made two subscriptions.
    assert billing.stripe.pay_checkout(team).status == 303
    assert billing.stripe.pay_checkout(second).status == 303
    billing.deliver(order="reversed")

    first_sub = billing.stripe.engine.get("checkout.session", team["id"])["subscription"]
    second_sub = billing.stripe.engine.get("checkout.session", second["id"])["subscription"]
    statuses = {s["id"]: s["status"] for s in billing.stripe.engine.all("subscription")}
    assert statuses == {first_sub: "active", second_sub: "canceled"}
    second_invoice = billing.stripe.engine.get(
        "invoice", billing.stripe.engine.get("subscription", second_sub)["latest_invoice"]
    )
    charge = billing.stripe.engine.get("charge", second_invoice["charge"])
    assert charge["amount"] == 24000 and charge["amount_refunded"] == 24000
    assert Subscription.objects.get(id=second_sub).stripe_data["status"] == "canceled"
    assert entitlements_get_for_user(user=user).plan == "team"

    mails = [m for m in mailoutbox if "cancelled and refunded" in m.subject]
    assert len(mails) == 1 and mails[0].to == [user.email]
    assert "240.00 USD" in mails[0].body
    # The refund's own "refund issued" e-mail is not sent on top of it.
    assert not [m for m in mailoutbox if "refund issued" in m.subject]

    # Replays change nothing more.
    for event in billing.stripe.events("checkout.session.completed"):
        billing.stripe.engine.emit("checkout.session.completed", event["data"]["object"])
    billing.deliver()
    assert OutboundEmail.objects.filter(subject__icontains="cancelled and refunded").count() == 1
    assert len(billing.stripe.engine.all("refund")) == 1
