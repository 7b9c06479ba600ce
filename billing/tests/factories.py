"""Helpers to build billing state the way production does: through the commands and services."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from typing import Any

from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
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


def wsgi_post(
    path: str, body: bytes, signature: str | None, *, remote_addr: str = "127.0.0.1"
) -> tuple[str, dict[str, str], bytes]:
    """POSTs to the production WSGI application (``config.wsgi``: the lean webhook route in front
    of Django), as gunicorn would; returns the status line, the headers and the body."""
    from wsgiref.util import setup_testing_defaults

    from config.wsgi import application

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": remote_addr,
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
    }
    if signature is not None:
        environ["HTTP_STRIPE_SIGNATURE"] = signature
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.update(status=status, headers=dict(headers))

    # As Django's test client does: a request must not close the test's connection (its
    # wrapping transaction) at its start or end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], content


class _Null:
    def write(self, *args: Any, **kwargs: Any) -> None:
        pass
