"""Billing test fixtures: the Stripe stand-in with the demo catalogue and our webhook endpoint."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from djstripe.models import Price
from rest_framework.test import APIClient

from billing.catalogue import catalogue_ensure, catalogue_sync
from stripe_local.pytest_plugin import StripeLocal


@dataclass
class Billing:
    """The stand-in, the synced catalogue and helpers that drive flows the way a person does."""

    stripe: StripeLocal
    endpoint: Any
    prices: dict[str, str]  # lookup key -> price id
    capture: Any

    def deliver(self, client: Any = None, **kwargs: Any) -> list[tuple[str, int]]:
        """Delivers every queued webhook (signed) through Django's test client, running the
        on-commit side effects as a committed transaction would: the processing task of each
        stored event (billing.webhook_intake), then its e-mails. Processing may call Stripe and
        so queue more events: this repeats until nothing is queued and nothing ran."""
        from django.test import Client

        results: list[tuple[str, int]] = []
        for _ in range(20):
            with self.capture(execute=True) as callbacks:
                delivered = self.stripe.deliver_webhooks(client or Client(), **kwargs)
            results += delivered
            if not delivered and not callbacks:
                break
        return results

    def checkout(
        self, client: APIClient, lookup_key: str, *, card: str = "4242424242424242", **kwargs: Any
    ) -> Any:
        """Opens a checkout through the API, pays it on the hosted page, and delivers the events."""
        response = client.post(
            "/api/v1/billing/checkout-session/", {"price_id": self.prices[lookup_key]}, format="json"
        )
        assert response.status_code == 201, response.content
        page = self.stripe.pay_checkout(response.json()["url"], card=card, **kwargs)
        self.deliver()
        return page


# The stand-in's state right after the demo catalogue was first created in this process: later
# tests start from a copy of it instead of creating the catalogue over HTTP again.
_catalogue_state: dict[str, Any] = {}


@pytest.fixture
def billing(stripe_local, django_capture_on_commit_callbacks, db) -> Billing:
    engine = stripe_local.engine
    if _catalogue_state:
        with engine.lock:
            engine.rollback(copy.deepcopy(_catalogue_state))  # objects, ids, events; the clock stays
    else:
        # Created before the test's webhook endpoint exists, so the catalogue's own product.* /
        # price.* events are never queued for delivery: catalogue_sync below puts the same rows
        # in the database, and each test delivers and asserts on its own events only.
        catalogue_ensure()
        with engine.lock:
            _catalogue_state.update(copy.deepcopy(engine.snapshot()))
    endpoint = stripe_local.webhook_endpoint()
    catalogue_sync()
    return Billing(
        stripe=stripe_local,
        endpoint=endpoint,
        prices={p.lookup_key: p.id for p in Price.objects.exclude(lookup_key=None)},
        capture=django_capture_on_commit_callbacks,
    )
