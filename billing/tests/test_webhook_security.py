"""The webhook endpoint refuses what Stripe did not send, with a 4xx and no state change."""

from __future__ import annotations

import json
import time

import pytest
from djstripe.models import Event, WebhookEventTrigger

from billing.models import BillingNotification
from billing.tests.factories import post_webhook, sign, webhook_endpoint

pytestmark = pytest.mark.django_db

EVENT = {
    "id": "evt_00000001LocalStandIn0000",
    "object": "event",
    "api_version": "2025-02-24.acacia",
    "created": 1700000000,
    "livemode": False,
    "type": "invoice.payment_failed",
    "data": {"object": {"id": "in_00000001LocalStandIn0000", "object": "invoice"}},
    "pending_webhooks": 1,
    "request": {"id": None, "idempotency_key": None},
}


def _nothing_changed() -> None:
    assert not Event.objects.exists()
    assert not BillingNotification.objects.exists()


def test_setup_command_creates_then_updates_the_endpoint(settings, capsys):
    endpoint = webhook_endpoint(settings, secret="whsec_one")
    again = webhook_endpoint(settings, secret="whsec_two")
    assert again.djstripe_uuid == endpoint.djstripe_uuid
    assert again.secret == "whsec_two"
    assert again.url.endswith(f"/stripe/webhook/{endpoint.djstripe_uuid}/")


def test_forged_signature_is_refused(client, settings):
    endpoint = webhook_endpoint(settings)
    response = post_webhook(client, endpoint, EVENT, secret="whsec_attacker")
    assert response.status_code == 400
    assert WebhookEventTrigger.objects.get().valid is False
    _nothing_changed()


def test_stale_timestamp_is_refused(client, settings):
    endpoint = webhook_endpoint(settings)
    response = post_webhook(client, endpoint, EVENT, timestamp=int(time.time()) - 3600)
    assert response.status_code == 400
    assert WebhookEventTrigger.objects.get().valid is False
    _nothing_changed()


def test_missing_signature_is_refused_and_not_stored(client, settings):
    endpoint = webhook_endpoint(settings)
    body = json.dumps(EVENT).encode()
    response = client.post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not WebhookEventTrigger.objects.exists()
    _nothing_changed()


def test_malformed_json_with_a_valid_signature_is_refused(client, settings):
    endpoint = webhook_endpoint(settings)
    body = b'{"id": "evt_1", "type": '
    response = post_webhook(client, endpoint, body, signature=sign(body, endpoint.secret))
    assert response.status_code == 400
    _nothing_changed()


def test_unknown_endpoint_is_404(client, settings):
    webhook_endpoint(settings)
    body = json.dumps(EVENT).encode()
    response = client.post(
        "/stripe/webhook/00000000-0000-0000-0000-000000000000/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, "whsec_x"),
    )
    assert response.status_code == 404
    _nothing_changed()
