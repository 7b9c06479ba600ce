"""Invalid deliveries (bad or stale signature) are stored capped, and pruned after a while."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from djstripe.models import Event, WebhookEventTrigger

from billing.tests.factories import post_webhook, webhook_endpoint
from billing.webhook_intake import webhook_events_drain, webhook_invalid_prune
from billing.webhook_tasks import webhook_invalid_prune as webhook_invalid_prune_task

pytestmark = pytest.mark.django_db

EVENT = {
    "id": "evt_00000001InvalidStored000",
    "object": "event",
    "livemode": False,
    "type": "invoice.paid",
    "data": {"object": {"id": "in_00000001InvalidStored000", "object": "invoice"}},
}


def _stored_bytes() -> int:
    return sum(
        len(t.body.encode()) + len(json.dumps(t.headers).encode()) + len(t.exception)
        for t in WebhookEventTrigger.objects.all()
    )


def test_three_unsigned_5_mb_posts_store_at_most_12_kib(client, settings):
    endpoint = webhook_endpoint(settings)
    body = json.dumps(dict(EVENT, padding="x" * (5 * 1024 * 1024))).encode()
    for attempt in range(3):
        response = post_webhook(client, endpoint, body, signature=f"t=1,v1={'0' * 64}{attempt}")
        assert response.status_code == 400
    triggers = WebhookEventTrigger.objects.all()
    assert triggers.count() == 3 and not triggers.filter(valid=True).exists()
    assert _stored_bytes() <= 12 * 1024
    assert all("truncated" in t.exception and t.body.startswith('{"id": "evt_') for t in triggers)
    assert not Event.objects.exists()


def test_a_small_invalid_delivery_is_kept_whole_and_not_flagged(client, settings):
    endpoint = webhook_endpoint(settings)
    assert post_webhook(client, endpoint, EVENT, secret="whsec_attacker").status_code == 400
    trigger = WebhookEventTrigger.objects.get()
    assert json.loads(trigger.body) == EVENT and "truncated" not in trigger.exception


def test_invalid_deliveries_are_pruned_after_the_retention_period_valid_ones_kept(client, settings):
    endpoint = webhook_endpoint(settings)
    post_webhook(client, endpoint, EVENT, secret="whsec_attacker")
    post_webhook(client, endpoint, dict(EVENT, id="evt_00000001InvalidRecent0000"), secret="whsec_attacker")
    post_webhook(client, endpoint, EVENT)  # valid: its trigger is made by the worker that tries it
    webhook_events_drain()  # (and fails: no Stripe here)
    old = timezone.now() - timedelta(days=settings.WEBHOOK_INVALID_RETENTION_DAYS + 1)
    WebhookEventTrigger.objects.filter(body__contains="evt_00000001InvalidStored000").update(created=old)
    assert WebhookEventTrigger.objects.filter(created=old).count() == 2  # one invalid, one valid

    assert webhook_invalid_prune_task.apply().get() == 1
    assert not WebhookEventTrigger.objects.filter(valid=False, created=old).exists()
    assert WebhookEventTrigger.objects.filter(valid=False).count() == 1  # the recent one
    assert WebhookEventTrigger.objects.filter(valid=True).count() == 1  # kept as the billing record
    assert webhook_invalid_prune() == 0

    call_command("billing_webhook_prune", days=0, stdout=_Out())
    assert not WebhookEventTrigger.objects.filter(valid=False).exists()


class _Out:
    def write(self, *args, **kwargs):
        pass
