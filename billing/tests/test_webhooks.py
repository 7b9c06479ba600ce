"""Webhook deliveries from the stand-in: replayed, out of order, duplicated, failing."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from djstripe.models import Event, WebhookEventTrigger

from billing.entitlements import entitlements_get_for_user
from billing.models import BillingNotification
from billing.tests.factories import post_webhook

pytestmark = pytest.mark.django_db


def _failed_renewal(billing, api):
    billing.checkout(api, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=15)
    billing.deliver()


def test_replayed_event_is_processed_once(billing, user, user_api_client, client, mailoutbox):
    _failed_renewal(billing, user_api_client)
    event = billing.stripe.events("invoice.payment_failed")[0]
    assert len(mailoutbox) == 1
    with billing.capture(execute=True):
        response = post_webhook(client, billing.endpoint, event)
    assert response.status_code == 200
    assert Event.objects.filter(id=event["id"]).count() == 1
    assert BillingNotification.objects.filter(kind="payment_failed").count() == 1
    assert len(mailoutbox) == 1


def test_out_of_order_delivery_gives_the_same_state(billing, user, user_api_client):
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    billing.stripe.pay_checkout(response.json()["url"])
    results = billing.deliver(order="reversed")
    assert results[0][0] != "customer.created"
    assert user_api_client.get("/api/v1/billing/subscription/").json()["status"] == "active"
    assert entitlements_get_for_user(user=user).plan == "team"


def test_a_failing_event_is_acknowledged_kept_as_failed_and_can_be_reprocessed(
    billing, user, user_api_client, client
):
    billing.checkout(user_api_client, "team_monthly")
    # An event arriving while Stripe is unreachable: the endpoint still answers 200 (it only
    # verifies and stores), the worker's re-fetch fails, and the delivery is kept as a failed
    # trigger with the error.
    event = dict(billing.stripe.events("invoice.paid")[0], id="evt_00000001FailingRefetch00")
    base = billing.stripe.engine.base_url
    import stripe

    stripe.api_base = "http://127.0.0.1:9"  # nothing listens there
    try:
        with billing.capture(execute=True):
            assert post_webhook(client, billing.endpoint, event).status_code == 200
    finally:
        stripe.api_base = base
    failed = WebhookEventTrigger.objects.filter(valid=True, processed=False)
    assert failed.count() == 1 and failed.get().exception
    assert not Event.objects.filter(id=event["id"]).exists()

    call_command("billing_reprocess_failed", stdout=_Out())
    assert not WebhookEventTrigger.objects.filter(valid=True, processed=False).exists()
    assert Event.objects.filter(id=event["id"]).count() == 1


def test_catalogue_events_are_synced_and_drop_cached_entitlements(billing, user, user_api_client):
    import stripe

    billing.checkout(user_api_client, "team_monthly")
    assert entitlements_get_for_user(user=user).max_post_length == 5000
    product = stripe.Price.retrieve(billing.prices["team_monthly"]).product
    metadata = dict(stripe.Product.retrieve(product).metadata.to_dict())
    metadata["max_post_length"] = "6000"
    stripe.Product.modify(product, metadata=metadata)
    results = billing.deliver()
    assert ("product.updated", 200) in results
    assert entitlements_get_for_user(user=user).max_post_length == 6000


class _Out:
    def write(self, *args, **kwargs):
        pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_give_one_email(billing, user, user_api_client, mailoutbox):
    """Ten deliveries at once (real commits, one connection each): the same event id five
    times, and five other event ids about the same failed invoice (as Stripe's retries are)."""
    import json
    import threading

    from django.db import connections
    from django.test import Client

    from billing.tests.factories import sign

    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=15)
    engine = billing.stripe.engine
    held = []
    for _ in range(10):
        batch = engine.take_deliveries()
        if not batch:
            break
        for delivery in batch:
            event = engine.out(engine.get("event", delivery["event"]))
            engine.delivered(delivery)
            if event["type"] == "invoice.payment_failed":
                held.append(event)
                continue
            url, payload, headers = engine.signed_delivery(delivery)
            Client().post(
                f"/stripe/webhook/{billing.endpoint.djstripe_uuid}/",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            )
    failed = held[0]
    bodies = [json.dumps(failed).encode()] * 5 + [
        json.dumps(dict(failed, id=f"evt_concurrent{i:02d}LocalStandIn")).encode() for i in range(5)
    ]
    barrier = threading.Barrier(len(bodies))
    statuses = []

    def deliver(body: bytes) -> None:
        try:
            barrier.wait()
            response = Client().post(
                f"/stripe/webhook/{billing.endpoint.djstripe_uuid}/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=sign(body, billing.endpoint.secret),
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 10
    invoice_id = failed["data"]["object"]["id"]
    assert BillingNotification.objects.filter(kind="payment_failed", stripe_object_id=invoice_id).count() == 1
    assert len([m for m in mailoutbox if "payment failed" in m.subject]) == 1
