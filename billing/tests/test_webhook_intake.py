"""The webhook endpoint acknowledges a verified, stored event at once; a worker processes it
once, retries it, and the sweep recovers an event whose task was lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

from billing.models import WebhookInbox
from billing.tests.factories import post_webhook, webhook_endpoint
from billing.webhook_intake import SWEEP_MAX_ATTEMPTS, webhook_events_sweep
from billing.webhook_tasks import webhook_event_process

pytestmark = pytest.mark.django_db


def _fresh_invoice_paid(billing, user_api_client, event_id: str) -> dict:
    billing.checkout(user_api_client, "team_monthly")
    return dict(billing.stripe.events("invoice.paid")[0], id=event_id)


def test_a_signed_event_is_acknowledged_before_it_is_processed(billing, user, user_api_client, client):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001AckedFirst000000")
    # Without the commit callbacks run, nothing reaches a worker: what the endpoint itself did.
    response = post_webhook(client, billing.endpoint, event)
    assert response.status_code == 200
    entry = WebhookInbox.objects.get(event_id=event["id"])
    assert entry.state == WebhookInbox.State.PENDING and entry.event_type == "invoice.paid"
    assert entry.trigger.valid and not entry.trigger.processed
    assert json.loads(entry.trigger.body)["id"] == event["id"]  # a valid body is kept whole
    assert not Event.objects.filter(id=event["id"]).exists()

    # Its task was lost (never queued here): once overdue, the sweep queues it again.
    assert webhook_events_sweep() == 0  # not overdue yet
    with billing.capture(execute=True):
        assert webhook_events_sweep(overdue_after=timedelta(0)) == 1
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.trigger.processed
    assert Event.objects.filter(id=event["id"]).count() == 1


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


def test_a_failing_event_is_kept_pending_with_its_error_and_retried_later(
    billing, user, user_api_client, client
):
    event = _fresh_invoice_paid(billing, user_api_client, "evt_00000001RetriedLater0000")
    base = stripe.api_base
    stripe.api_base = "http://127.0.0.1:9"  # Stripe unreachable: the worker's re-fetch fails
    try:
        post_webhook(client, billing.endpoint, event)
        entry = WebhookInbox.objects.get(event_id=event["id"])
        # A worker's attempt (called as a worker would, not inline): the error is recorded and
        # the retry is due later, with back-off.
        before = timezone.now()
        with pytest.raises(stripe.APIConnectionError), billing.capture(execute=True):
            webhook_event_process.run(inbox_id=entry.pk)
    finally:
        stripe.api_base = base
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.PENDING and entry.attempts == 1
    assert entry.next_attempt_at >= before
    assert entry.trigger.exception and not entry.trigger.processed
    assert (
        WebhookEventTrigger.objects.filter(valid=True, processed=False).count() == 1
    )  # the admin's "failed"

    with billing.capture(execute=True):
        webhook_event_process.run(inbox_id=entry.pk)  # Stripe is back
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.DONE and entry.trigger.processed and not entry.trigger.exception


def test_an_event_that_keeps_losing_its_worker_is_given_up_as_failed(client, settings):
    endpoint = webhook_endpoint(settings)
    event = {
        "id": "evt_00000001KillsItsWorker00",
        "object": "event",
        "livemode": False,
        "type": "customer.updated",
    }
    assert post_webhook(client, endpoint, event).status_code == 200  # its task never runs here
    entry = WebhookInbox.objects.get(event_id=event["id"])
    for _ in range(SWEEP_MAX_ATTEMPTS):  # each sweep re-queues it and its worker dies again
        assert webhook_events_sweep(overdue_after=timedelta(0)) == 1
    assert webhook_events_sweep(overdue_after=timedelta(0)) == 0
    entry.refresh_from_db()
    assert entry.state == WebhookInbox.State.FAILED and entry.attempts == SWEEP_MAX_ATTEMPTS
    assert (
        WebhookEventTrigger.objects.filter(valid=True, processed=False).count() == 1
    )  # the admin's "failed"
