"""The lean webhook route (``config.wsgi``: before Django's request handling and middleware)
stores a verified event with one statement and answers 200; everything it does not fully
accept is answered by Django's view exactly as before."""

from __future__ import annotations

import json

import pytest
from djstripe.models import WebhookEventTrigger

from billing import webhook_intake
from billing.models import WebhookInbox
from billing.tests.factories import sign, webhook_endpoint, wsgi_post

pytestmark = pytest.mark.django_db

EVENT = {
    "id": "evt_00000001LeanRoute0000000",
    "object": "event",
    "livemode": False,
    "type": "customer.updated",
}


@pytest.fixture(autouse=True)
def _fresh_endpoint_cache():
    webhook_intake._endpoints.clear()
    yield
    webhook_intake._endpoints.clear()


@pytest.fixture
def endpoint(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    return webhook_endpoint(settings)


def _path(endpoint) -> str:
    return f"/stripe/webhook/{endpoint.djstripe_uuid}/"


def test_a_verified_event_costs_one_statement_and_is_answered_without_django(
    endpoint, django_assert_num_queries, django_capture_on_commit_callbacks
):
    body = json.dumps(EVENT).encode()
    wsgi_post(
        _path(endpoint), json.dumps(dict(EVENT, id="evt_00000001LeanRouteWarm000")).encode(), sign(body, "x")
    )
    webhook_intake._endpoint(str(endpoint.djstripe_uuid))  # the endpoint row, read once a while
    with django_assert_num_queries(1):  # the insert; no session, user or endpoint query
        status, headers, content = wsgi_post(
            _path(endpoint), body, sign(body, endpoint.secret), remote_addr="203.0.113.9"
        )
    assert (status, content) == ("200 OK", b"ok")
    assert "X-Request-ID" not in headers  # Django's middleware did not run
    entry = WebhookInbox.objects.get(event_id=EVENT["id"])
    assert entry.state == WebhookInbox.State.PENDING and entry.event_type == "customer.updated"
    assert entry.body == body.decode() and entry.headers["Stripe-Signature"].startswith("t=")
    assert entry.remote_ip == "203.0.113.9" and entry.endpoint == endpoint and entry.trigger is None

    # The same event again: 200, nothing more stored.
    assert wsgi_post(_path(endpoint), body, sign(body, endpoint.secret))[0] == "200 OK"
    assert WebhookInbox.objects.filter(event_id=EVENT["id"]).count() == 1


def test_what_the_lean_route_does_not_accept_is_answered_by_django(endpoint):
    body = json.dumps(EVENT).encode()
    # A bad signature: Django's view answers 400 and keeps the capped security record.
    status, headers, _ = wsgi_post(_path(endpoint), body, sign(body, "whsec_forged"))
    assert status.startswith("400") and "X-Request-ID" in headers
    assert WebhookEventTrigger.objects.filter(valid=False).count() == 1
    # No signature at all: 400, nothing stored.
    assert wsgi_post(_path(endpoint), body, None)[0].startswith("400")
    assert WebhookEventTrigger.objects.filter(valid=False).count() == 1
    # A signed body that is not an event: 400, recorded as invalid.
    junk = b'{"hello": "world"}'
    assert wsgi_post(_path(endpoint), junk, sign(junk, endpoint.secret))[0].startswith("400")
    # An unknown endpoint: 404.
    assert wsgi_post("/stripe/webhook/00000000-0000-4000-8000-000000000000/", body, sign(body, "x"))[
        0
    ].startswith("404")
    assert not WebhookInbox.objects.exists()


def test_a_rotated_secret_is_used_at_once(endpoint, settings):
    webhook_intake._endpoint(str(endpoint.djstripe_uuid))  # cached with the old secret
    rotated = webhook_endpoint(settings, secret="whsec_rotated_secret_for_the_test")
    assert rotated.djstripe_uuid == endpoint.djstripe_uuid
    body = json.dumps(EVENT).encode()
    # The cached secret does not verify it: Django's view, reading the row, does.
    assert wsgi_post(_path(endpoint), body, sign(body, "whsec_rotated_secret_for_the_test"))[0] == "200 OK"
    assert WebhookInbox.objects.filter(event_id=EVENT["id"]).exists()


def test_without_billing_there_is_no_lean_route(settings):
    settings.BILLING_ENABLED = False

    def django_app(environ, start_response):
        return [b"django"]

    assert webhook_intake.webhook_fast_path(django_app) is django_app
