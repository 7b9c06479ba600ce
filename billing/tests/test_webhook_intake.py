"""The webhook endpoint acknowledges a verified, stored event at once; a worker draining the
inbox processes it once, retries it with back-off, and an event whose worker died is taken
again once its claim's lease ends (or given up as failed when it keeps killing workers)."""

from __future__ import annotations

import json

import pytest
import stripe
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

from billing import webhook_intake
from billing.models import WebhookInbox
from billing.tests.factories import post_webhook, webhook_endpoint
from billing.webhook_intake import MAX_ATTEMPTS, webhook_events_drain, webhook_events_sweep

pytestmark = pytest.mark.django_db


def _fresh_invoice_paid(billing, user_api_client, event_id: str) -> dict:
    billing.checkout(user_api_client, "team_monthly")
    return dict(billing.stripe.events("invoice.paid")[0], id=event_id)


def _due_now(entry: WebhookInbox) -> None:
    """Time passes: a back-off or a dead worker's claim ends."""
    WebhookInbox.objects.filter(pk=entry.pk).update(next_attempt_at=timezone.now())


def _admin_failed() -> int:
    """What the admin's "Failed" filter lists: valid deliveries not processed."""
    return WebhookEventTrigger.objects.filter(valid=True, processed=False).count()


def test_a_signed_event_is_acknowledged_before_it_is_processed(billing, user, user_api_client, client):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001AckedFirst000000")
    # Without the commit callbacks run, no worker is woken: what the endpoint itself did.
    response = post_webhook(client, billing.endpoint, event)
    assert response.status_code == 200
    entry = WebhookInbox.objects.get(event_id=event["id"])
    assert entry.state == WebhookInbox.State.PENDING and entry.event_type == "invoice.paid"
    assert json.loads(entry.body)["id"] == event["id"]  # the raw body is kept whole
    assert entry.headers["Stripe-Signature"].startswith("t=") and entry.endpoint == billing.endpoint
    assert entry.trigger is None  # one row stored, nothing else
    assert not Event.objects.filter(id=event["id"]).exists()

    # Its wake-up was lost: the sweep (every minute) sees it due and wakes a drain.
    with billing.capture(execute=True):
        assert webhook_events_sweep() == 1
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 1
    assert entry.trigger.valid and entry.trigger.processed and json.loads(entry.trigger.body) == event
    assert Event.objects.filter(id=event["id"]).count() == 1
    assert webhook_events_sweep() == 0


def test_a_duplicate_delivery_stores_nothing_and_is_not_processed_again(
    billing, user, user_api_client, client
):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001DuplicateOnce000")
    for _ in range(3):
        with billing.capture(execute=True):
            assert post_webhook(client, billing.endpoint, event).status_code == 200
    entry = WebhookInbox.objects.get(event_id=event["id"])
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 1
    assert WebhookEventTrigger.objects.filter(body__contains=event["id"]).count() == 1
    assert Event.objects.filter(id=event["id"]).count() == 1


def test_a_failing_event_is_kept_pending_with_its_error_and_retried_after_a_back_off(
    billing, user, user_api_client, client
):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001RetriedLater0000")
    post_webhook(client, billing.endpoint, event)
    entry = WebhookInbox.objects.get(event_id=event["id"])
    base = stripe.api_base
    stripe.api_base = "http://127.0.0.1:9"  # Stripe unreachable: the worker's re-fetch fails
    try:
        before = timezone.now()
        with billing.capture(execute=True):
            assert webhook_events_drain() == 0
    finally:
        stripe.api_base = base
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.PENDING and entry.attempts == 1
    assert entry.next_attempt_at > before  # backing off
    assert entry.trigger.exception and not entry.trigger.processed
    assert _admin_failed() == 1
    assert webhook_events_drain() == 0  # not due yet: nothing taken

    _due_now(entry)  # Stripe is back, and the back-off is over
    with billing.capture(execute=True):
        assert webhook_events_drain() == 1
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 2
    assert entry.trigger.processed and not entry.trigger.exception
    assert WebhookEventTrigger.objects.filter(body__contains=event["id"]).count() == 1


def test_an_event_whose_worker_died_is_taken_again_once_its_claim_ends(
    billing, user, user_api_client, client
):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001WorkerDiedOnce00")
    post_webhook(client, billing.endpoint, event)
    entry = WebhookInbox.objects.get(event_id=event["id"])
    assert webhook_intake._claim() == (entry.pk, 1)  # a worker takes it, then is killed
    assert webhook_events_drain() == 0  # still claimed: other workers leave it
    assert webhook_events_sweep() == 0
    _due_now(entry)  # the lease ends
    with billing.capture(execute=True):
        assert webhook_events_sweep() == 1
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.attempts == 2
    assert Event.objects.filter(id=event["id"]).count() == 1


def test_an_event_that_keeps_killing_its_worker_is_given_up_as_failed(client, settings):
    endpoint = webhook_endpoint(settings)
    event = {
        "id": "evt_00000001KillsItsWorker00",
        "object": "event",
        "livemode": False,
        "type": "customer.updated",
    }
    assert post_webhook(client, endpoint, event).status_code == 200  # no worker woken here
    entry = WebhookInbox.objects.get(event_id=event["id"])
    for attempt in range(1, MAX_ATTEMPTS + 1):  # each worker that takes it dies
        assert webhook_intake._claim() == (entry.pk, attempt)
        _due_now(entry)
    assert webhook_events_drain() == 0  # the next one gives it up instead of dying too
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.FAILED and entry.attempts == MAX_ATTEMPTS + 1
    assert _admin_failed() == 1 and "no worker finished it" in entry.trigger.exception
    assert webhook_events_sweep() == 0


def test_the_back_off_grows_and_the_last_attempt_gives_up():
    # Full jitter: each delay is anywhere from 1 s up to the exponential cap (5 s, 10 s ... 600 s).
    for attempts in range(1, MAX_ATTEMPTS):
        delays = [webhook_intake.retry_delay(attempts) for _ in range(20)]
        assert all(d is not None and 1 <= d <= min(600, 5 * 2 ** (attempts - 1)) for d in delays)
    assert webhook_intake.retry_delay(MAX_ATTEMPTS) is None
