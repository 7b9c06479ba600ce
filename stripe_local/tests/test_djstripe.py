"""Done-when: stripe-python 15 and dj-stripe 2.11 against the local stand-in, end to end.

Payments go through the hosted pages over HTTP; webhooks reach the project's dj-stripe endpoint
signed exactly as Stripe signs them (delivered from the test thread, see the package README).
"""

from __future__ import annotations

import datetime as dt

import pytest
import stripe
from django.test import TestCase
from djstripe.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Dispute,
    Invoice,
    PaymentIntent,
    Subscription,
    WebhookEventTrigger,
)

pytestmark = pytest.mark.django_db


def _deliver(stripe_local, client, **kwargs):
    """Delivers the queued webhooks, then runs what each delivery queued on commit: the worker's
    processing of the stored event (the test's own transaction never commits)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return stripe_local.deliver_webhooks(client, **kwargs)


def _price(unit_amount: int = 900, interval: str = "month", lookup_key: str = "pro_monthly") -> stripe.Price:
    product = stripe.Product.create(name=f"Pro {interval}")
    return stripe.Price.create(
        product=product.id,
        currency="usd",
        unit_amount=unit_amount,
        recurring={"interval": interval},
        lookup_key=lookup_key,
    )


def _checkout(price: stripe.Price, **extra) -> stripe.checkout.Session:
    return stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": price.id, "quantity": 1}],
        success_url="http://testserver/billing/success?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/billing/cancel",
        **extra,
    )


def _subscribe(stripe_local, client, *, card: str = "4242424242424242") -> tuple[str, str]:
    """A paid subscription through the hosted checkout, synced by webhooks. Returns (sub, customer)."""
    stripe_local.webhook_endpoint()
    customer = stripe.Customer.create(email="ada@example.com", name="Ada")
    session = _checkout(_price(), customer=customer.id, client_reference_id="user-1")
    response = stripe_local.pay_checkout(session, card=card, email="ada@example.com")
    assert response.status == 303, response.text
    _deliver(stripe_local, client)
    session = stripe.checkout.Session.retrieve(session.id)
    return session.subscription, customer.id


def _ts(value: dt.datetime | None) -> int:
    assert value is not None
    return int(value.timestamp())


def test_customer_is_created_and_synced(stripe_local):
    customer = stripe.Customer.create(email="grace@example.com", name="Grace", metadata={"user": "7"})

    synced = Customer.sync_from_stripe_data(stripe.Customer.retrieve(customer.id))

    assert customer.id.startswith("cus_")
    assert synced.email == "grace@example.com"
    assert synced.metadata == {"user": "7"}
    assert stripe.Customer.search(query="email:'grace@example.com'").data[0].id == customer.id


def test_checkout_paid_with_4242_produces_djstripe_rows_through_webhooks(stripe_local, client):
    endpoint = stripe_local.webhook_endpoint()
    customer = stripe.Customer.create(email="ada@example.com")
    price = _price()
    session = _checkout(price, customer=customer.id, client_reference_id="user-1")

    page = stripe_local.page(session.url)
    response = stripe_local.pay_checkout(session)
    results = _deliver(stripe_local, client)

    assert page.status == 200 and "4242" in page.text
    assert response.status == 303
    assert response.location == f"http://testserver/billing/success?session_id={session.id}"
    assert {status for _, status in results} == {200}
    types = {event_type for event_type, _ in results}
    assert {
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "invoice.payment_succeeded",
        "payment_intent.succeeded",
        "charge.succeeded",
    } <= types
    assert WebhookEventTrigger.objects.filter(webhook_endpoint=endpoint, valid=True).count() == len(results)
    assert not WebhookEventTrigger.objects.filter(valid=False).exists()

    remote = stripe.checkout.Session.retrieve(session.id)
    sub = Subscription.objects.get(id=remote.subscription)
    assert sub.status == "active"
    assert sub.customer_id == customer.id
    assert _ts(sub.current_period_end) == stripe.Subscription.retrieve(sub.id).current_period_end
    assert sub.current_period_end - sub.current_period_start >= dt.timedelta(days=28)
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.status == "paid" and invoice.stripe_data["amount_paid"] == 900
    intent = PaymentIntent.objects.get(id=invoice.stripe_data["payment_intent"])
    assert intent.stripe_data["status"] == "succeeded"
    charge = Charge.objects.get(payment_intent=intent)
    assert charge.status == "succeeded" and charge.paid is True
    assert Customer.objects.get(id=customer.id).email == "ada@example.com"


def test_declined_card_shows_an_error_and_creates_nothing(stripe_local):
    session = _checkout(_price(), customer_email="bob@example.com")

    response = stripe_local.pay_checkout(session, card="4000000000000002")

    assert response.status == 402
    assert "Your card was declined." in response.text
    assert stripe.checkout.Session.retrieve(session.id).status == "open"
    assert stripe.Subscription.list().data == []
    assert stripe_local.pay_checkout(session, card="4000000000003220").status == 402


def test_cancel_link_goes_to_cancel_url(stripe_local):
    session = _checkout(_price())

    page = stripe_local.page(session.url)

    assert "href='http://testserver/billing/cancel'" in page.text


def test_advancing_time_renews_the_subscription(stripe_local, client):
    sub_id, _ = _subscribe(stripe_local, client)
    first_end = Subscription.objects.get(id=sub_id).current_period_end

    events = stripe_local.advance(days=32)
    _deliver(stripe_local, client)

    assert "invoice.paid" in [e["type"] for e in events]
    sub = Subscription.objects.get(id=sub_id)
    assert sub.status == "active"
    assert sub.current_period_start == first_end
    assert sub.current_period_end > first_end
    invoices = Invoice.objects.filter(subscription=sub).order_by("created")
    assert [i.status for i in invoices] == ["paid", "paid"]
    assert invoices[1].billing_reason == "subscription_cycle"


def test_renewal_fails_with_card_0341_and_the_subscription_goes_past_due(stripe_local, client):
    sub_id, customer_id = _subscribe(stripe_local, client)
    portal = stripe.billing_portal.Session.create(
        customer=customer_id, return_url="http://testserver/billing/"
    )
    changed = stripe_local.portal(portal.url, "card", card_number="4000000000000341")
    assert changed.status == 303
    _deliver(stripe_local, client)

    stripe_local.advance(days=32)
    results = _deliver(stripe_local, client)

    assert ("invoice.payment_failed", 200) in results
    sub = Subscription.objects.get(id=sub_id)
    assert sub.status == "past_due"
    failed = Invoice.objects.filter(subscription=sub, stripe_data__status="open").get()
    assert failed.attempt_count == 1
    assert failed.stripe_data["next_payment_attempt"] is not None

    # Dunning: the retries fail too, then the subscription is canceled (Stripe's default).
    stripe_local.advance(days=20)
    _deliver(stripe_local, client)
    assert Subscription.objects.get(id=sub_id).status == "canceled"
    assert Invoice.objects.get(id=failed.id).attempt_count == 4


def test_fixing_the_card_in_the_portal_pays_the_past_due_invoice(stripe_local, client):
    sub_id, customer_id = _subscribe(stripe_local, client)
    portal = stripe.billing_portal.Session.create(customer=customer_id)
    stripe_local.portal(portal.url, "card", card_number="4000000000000341")
    stripe_local.advance(days=32)
    _deliver(stripe_local, client)
    assert Subscription.objects.get(id=sub_id).status == "past_due"

    stripe_local.portal(portal.url, "card", card_number="4242424242424242")
    _deliver(stripe_local, client)

    assert Subscription.objects.get(id=sub_id).status == "active"
    assert not Invoice.objects.filter(subscription_id=sub_id, stripe_data__status="open").exists()


def test_cancel_and_resume_through_the_portal(stripe_local, client):
    sub_id, customer_id = _subscribe(stripe_local, client)
    portal = stripe.billing_portal.Session.create(
        customer=customer_id, return_url="http://testserver/billing/"
    )

    page = stripe_local.portal(portal.url)
    canceled = stripe_local.portal(portal.url, "cancel", subscription=sub_id)
    _deliver(stripe_local, client)
    after_cancel = Subscription.objects.get(id=sub_id)
    resumed = stripe_local.portal(portal.url, "resume", subscription=sub_id)
    _deliver(stripe_local, client)
    after_resume = Subscription.objects.get(id=sub_id)

    assert page.status == 200 and "Cancel plan" in page.text
    assert canceled.status == 303 and "will be canceled" in stripe_local.page(canceled.location).text
    assert after_cancel.cancel_at_period_end is True and after_cancel.status == "active"
    assert resumed.status == 303
    assert after_resume.cancel_at_period_end is False

    stripe_local.portal(portal.url, "cancel", subscription=sub_id)
    stripe_local.advance(days=32)
    _deliver(stripe_local, client)
    assert Subscription.objects.get(id=sub_id).status == "canceled"


def test_switching_price_in_the_portal_prorates(stripe_local, client):
    sub_id, customer_id = _subscribe(stripe_local, client)
    bigger = _price(unit_amount=1900, lookup_key="team_monthly")
    portal = stripe.billing_portal.Session.create(customer=customer_id)
    stripe_local.advance(days=10)

    response = stripe_local.portal(portal.url, "switch", subscription=sub_id, price=bigger.id)
    _deliver(stripe_local, client)

    assert response.status == 303
    sub = Subscription.objects.get(id=sub_id)
    assert sub.stripe_data["items"]["data"][0]["price"]["id"] == bigger.id
    proration = Invoice.objects.filter(
        subscription=sub, stripe_data__billing_reason="subscription_update"
    ).get()
    assert proration.status == "paid"
    assert 0 < proration.stripe_data["amount_paid"] < 1000


def test_trial_checkout_then_trial_end_charges(stripe_local, client):
    stripe_local.webhook_endpoint()
    session = _checkout(_price(), customer_email="t@example.com", subscription_data={"trial_period_days": 14})
    assert stripe_local.pay_checkout(session).status == 303
    _deliver(stripe_local, client)
    sub_id = stripe.checkout.Session.retrieve(session.id).subscription
    assert Subscription.objects.get(id=sub_id).status == "trialing"

    events = stripe_local.advance(days=12)
    assert [e["type"] for e in events] == ["customer.subscription.trial_will_end"]
    stripe_local.advance(days=3)
    _deliver(stripe_local, client)

    sub = Subscription.objects.get(id=sub_id)
    assert sub.status == "active"
    assert Invoice.objects.filter(subscription=sub, stripe_data__status="paid").count() == 2


def test_events_delivered_in_reverse_order_reach_the_same_state(stripe_local, client):
    stripe_local.webhook_endpoint()
    session = _checkout(_price(), customer_email="rev@example.com")
    stripe_local.pay_checkout(session)

    _deliver(stripe_local, client, order="reversed")

    sub = Subscription.objects.get(id=stripe.checkout.Session.retrieve(session.id).subscription)
    assert sub.status == "active"
    assert Invoice.objects.get(subscription=sub).status == "paid"


def test_a_refused_delivery_stays_queued_for_a_retry(stripe_local, client):
    endpoint = stripe_local.webhook_endpoint()
    stripe.Customer.create(email="retry@example.com")
    secret = endpoint.secret
    endpoint.secret = "whsec_wrong"
    endpoint.save()

    with pytest.raises(AssertionError, match="customer.created"):
        _deliver(stripe_local, client)
    assert _deliver(stripe_local, client, raise_on_error=False) == [("customer.created", 400)]
    endpoint.secret = secret
    endpoint.save()
    assert _deliver(stripe_local, client) == [("customer.created", 200)]
    assert Customer.objects.get().email == "retry@example.com"
    assert WebhookEventTrigger.objects.filter(valid=False).count() == 2


def test_deleting_a_customer_purges_it_in_djstripe(stripe_local, client):
    sub_id, customer_id = _subscribe(stripe_local, client)

    stripe.Customer.delete(customer_id)
    _deliver(stripe_local, client)

    assert Customer.objects.get(id=customer_id).date_purged is not None
    assert Subscription.objects.get(id=sub_id).status == "canceled"


def test_a_checkout_paid_with_card_0259_is_disputed_and_djstripe_syncs_the_dispute(stripe_local, client):
    sub_id, _ = _subscribe(stripe_local, client, card="4000000000000259")

    dispute = Dispute.objects.get()
    charge = Charge.objects.get(id=dispute.charge_id)
    assert (dispute.status, dispute.reason, dispute.amount) == ("needs_response", "fraudulent", 900)
    assert charge.disputed is True and charge.status == "succeeded"
    assert dispute.payment_intent_id == charge.payment_intent_id
    withdrawal = BalanceTransaction.objects.get(source=dispute.id)
    assert (withdrawal.amount, withdrawal.fee, withdrawal.type) == (-900, 1500, "adjustment")
    assert Subscription.objects.get(id=sub_id).status == "active"  # a dispute does not end it
    assert not WebhookEventTrigger.objects.filter(valid=False).exists()
    assert not WebhookEventTrigger.objects.exclude(exception="").exists()


def test_a_dispute_made_later_reaches_djstripe_and_its_updates_follow(stripe_local, client):
    _subscribe(stripe_local, client)
    charge = Charge.objects.get()

    dispute = stripe_local.dispute(charge.id, reason="product_not_received")
    results = _deliver(stripe_local, client)
    stripe.Dispute.modify(dispute["id"], evidence={"uncategorized_text": "Tracking 123"})
    _deliver(stripe_local, client)

    assert sorted(results) == [
        ("charge.dispute.created", 200),
        ("charge.dispute.funds_withdrawn", 200),
        ("charge.updated", 200),
    ]
    charge.refresh_from_db()
    assert charge.disputed is True
    synced = Dispute.objects.get(id=dispute["id"])
    assert (synced.status, synced.reason, synced.charge_id) == (
        "under_review",
        "product_not_received",
        charge.id,
    )
    assert synced.evidence["uncategorized_text"] == "Tracking 123"
