"""Helpers to build billing state the way production does: through the commands and services."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.core.management import call_command
from django.test import Client
from djstripe.models import WebhookEndpoint

TEST_WEBHOOK_SECRET = "whsec_billing_tests_secret"


def webhook_endpoint(settings: Any, secret: str = TEST_WEBHOOK_SECRET) -> WebhookEndpoint:
    """The dj-stripe endpoint row, made by the deploy command from STRIPE_WEBHOOK_SECRET."""
    settings.STRIPE_WEBHOOK_SECRET = secret
    call_command("billing_webhook_setup", stdout=_Null())
    return WebhookEndpoint.objects.get(id="we_relay_from_environment")


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's signature header: ``t=<ts>,v1=<HMAC-SHA256 of "t.payload">``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def post_webhook(
    client: Client,
    endpoint: WebhookEndpoint,
    payload: bytes | dict[str, Any],
    *,
    secret: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature is not None:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    elif secret is not False:
        headers["HTTP_STRIPE_SIGNATURE"] = sign(body, secret or endpoint.secret, timestamp)
    return client.post(
        f"/stripe/webhook/{endpoint.djstripe_uuid}/", data=body, content_type="application/json", **headers
    )


class _Null:
    def write(self, *args: Any, **kwargs: Any) -> None:
        pass
