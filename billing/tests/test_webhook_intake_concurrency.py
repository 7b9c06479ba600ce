"""50 concurrent copies of one event (real PostgreSQL commits, one connection per thread), through
Django's view or the lean WSGI route, give one stored event and one side effect; so do 50 workers
draining the inbox at once."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from djstripe.models import Event, WebhookEventTrigger

from billing import webhook_intake
from billing.models import BillingNotification, WebhookInbox
from billing.tests.factories import sign, wsgi_post
from config.celery import app as celery_app

COPIES = 50


def _at_once(count: int, work: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _held_payment_failed(billing, api) -> dict:
    """A failed renewal's ``invoice.payment_failed``, every other event delivered."""
    billing.checkout(api, "pro_monthly", card="4000000000000341")
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
            _url, payload, headers = engine.signed_delivery(delivery)
            Client().post(
                f"/stripe/webhook/{billing.endpoint.djstripe_uuid}/",
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            )
    return held[0]


def _post(billing, event: dict) -> int:
    body = json.dumps(event).encode()
    return (
        Client()
        .post(
            f"/stripe/webhook/{billing.endpoint.djstripe_uuid}/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body, billing.endpoint.secret),
        )
        .status_code
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_and_concurrent_workers_give_one_effect(
    billing, user, user_api_client, mailoutbox
):
    failed = _held_payment_failed(billing, user_api_client)
    invoice_id = failed["data"]["object"]["id"]

    assert _at_once(COPIES, lambda: _post(billing, failed)) == [200] * COPIES
    entry = WebhookInbox.objects.get(event_id=failed["id"])
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 1
    assert WebhookEventTrigger.objects.filter(body__contains=failed["id"]).count() == 1
    assert Event.objects.filter(id=failed["id"]).count() == 1
    assert BillingNotification.objects.filter(kind="payment_failed", stripe_object_id=invoice_id).count() == 1
    assert len([m for m in mailoutbox if "payment failed" in m.subject]) == 1

    # Stripe's retry of it under a new event id, stored while no worker runs (its wake-up waits
    # in the broker), then 50 workers drain the inbox at once: one takes it, processed once.
    retry = dict(failed, id="evt_00000001ConcurrentWorkers")
    celery_app.conf.task_always_eager = False
    try:
        assert _post(billing, retry) == 200
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.control.purge()
    entry = WebhookInbox.objects.get(event_id=retry["id"])
    assert entry.state == WebhookInbox.State.PENDING
    assert sum(_at_once(COPIES, webhook_intake.webhook_events_drain)) == 1
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 1
    assert Event.objects.filter(id=retry["id"]).count() == 1
    # 50 workers handed that same row at once (redeliveries): the row lock, then "done".
    assert (
        _at_once(COPIES, lambda: webhook_intake.webhook_event_process(inbox_id=entry.pk)) == [True] * COPIES
    )
    assert BillingNotification.objects.filter(kind="payment_failed", stripe_object_id=invoice_id).count() == 1
    assert len([m for m in mailoutbox if "payment failed" in m.subject]) == 1

    # Another retry, 50 copies at once through the lean route (config.wsgi, before Django).
    lean = dict(failed, id="evt_00000001ConcurrentLean000")
    body = json.dumps(lean).encode()
    path = f"/stripe/webhook/{billing.endpoint.djstripe_uuid}/"
    assert (
        _at_once(COPIES, lambda: wsgi_post(path, body, sign(body, billing.endpoint.secret))[0])
        == ["200 OK"] * COPIES
    )
    assert WebhookInbox.objects.filter(event_id=lean["id"], state=WebhookInbox.State.DONE).count() == 1
    assert Event.objects.filter(id=lean["id"]).count() == 1
    assert BillingNotification.objects.filter(kind="payment_failed", stripe_object_id=invoice_id).count() == 1
    assert len([m for m in mailoutbox if "payment failed" in m.subject]) == 1
