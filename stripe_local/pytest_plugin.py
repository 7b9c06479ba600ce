"""pytest fixtures for the local Stripe stand-in.

``stripe_local`` (function scope) gives each test a fresh stand-in state with the whole stack
(stripe-python, dj-stripe) pointed at it, plus helpers: ``advance()``, ``pay_checkout()``,
``portal()``, ``dispute()``, ``webhook_endpoint()`` and ``deliver_webhooks(client)``. See README.md.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from .engine import Engine, Obj
from .server import StripeLocalServer, start


@dataclass
class PageResponse:
    """A response from one of the stand-in's hosted pages (redirects are not followed)."""

    status: int
    location: str | None
    text: str
    headers: dict[str, str] = field(default_factory=dict)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _http(url: str, form: dict[str, Any] | None = None) -> PageResponse:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        response = _opener.open(url, data, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        body = response.read().decode("utf-8", "replace")
        headers = {k: v for k, v in response.headers.items()}
        return PageResponse(response.status, headers.get("Location"), body, headers)


class StripeLocal:
    """Test-side handle on the stand-in (same process, so the engine is shared)."""

    def __init__(self, server: StripeLocalServer) -> None:
        self.server = server
        self.engine: Engine = server.engine
        self.base_url = self.engine.base_url
        self.api_key = "sk_test_localstandin000000000000000000"

    # clock
    @property
    def now(self) -> int:
        return self.engine.now

    def advance(self, *, seconds: int = 0, days: int = 0, to: int | None = None) -> list[Obj]:
        """Move the virtual clock; returns the events this produced (renewals, retries...)."""
        target = to if to is not None else self.engine.now + seconds + days * 86400
        ids = self.engine.advance(to=target)
        return [self.engine.out(self.engine.get("event", event_id)) for event_id in ids]

    # events
    def events(self, event_type: str | None = None) -> list[Obj]:
        """Every event so far, oldest first (optionally of one type)."""
        with self.engine.lock:
            found = [self.engine.get("event", event_id) for event_id in self.engine.events]
            return [self.engine.out(e) for e in found if event_type is None or e["type"] == event_type]

    def event_types(self) -> list[str]:
        return [event["type"] for event in self.events()]

    # disputes
    def dispute(self, charge_id: str, *, reason: str = "fraudulent", inquiry: bool = False) -> Obj:
        """The card's issuer disputes a succeeded charge, as with the 4000000000000259 test card
        (same as ``POST /_local/disputes``). Queues ``charge.dispute.created``, ``charge.updated``
        and, unless ``inquiry``, ``charge.dispute.funds_withdrawn``. Returns the dispute."""
        from .routes import local_disputes_create

        with self.engine.lock:
            params = {"charge": charge_id, "reason": reason, "inquiry": "true" if inquiry else "false"}
            return self.engine.out(local_disputes_create(self.engine, params))

    # hosted pages
    def page(self, url: str, form: dict[str, Any] | None = None) -> PageResponse:
        """GET (or POST ``form`` to) a hosted page of the stand-in."""
        return _http(url, form)

    def pay_checkout(
        self,
        session: Obj | str,
        *,
        card: str = "4242424242424242",
        email: str | None = "customer@example.com",
        exp: str = "12 / 34",
        cvc: str = "123",
        name: str = "Test Customer",
        promotion_code: str | None = None,
    ) -> PageResponse:
        """Pay a Checkout Session through its hosted page over HTTP, as a person would.

        ``session`` is the session (or its ``url``). Success is a 303 to success_url.
        """
        url = session if isinstance(session, str) else session["url"]
        form = {"email": email or "", "name": name, "card_number": card, "exp": exp, "cvc": cvc}
        if promotion_code:
            form["promotion_code"] = promotion_code
        return _http(url, form)

    def portal(self, url: str, action: str | None = None, **form: Any) -> PageResponse:
        """Open the billing portal page, or perform ``action`` (cancel, resume, switch, card)."""
        if action is None:
            return _http(url)
        fields = {"action": action, **form}
        if action == "card":
            fields.setdefault("exp", "12 / 34")
            fields.setdefault("cvc", "123")
        return _http(url, fields)

    # webhooks
    def webhook_endpoint(self, *, enabled_events: list[str] | None = None, host: str = "testserver") -> Any:
        """Register the project's dj-stripe endpoint: a ``djstripe.models.WebhookEndpoint`` row
        and the matching stand-in endpoint with the same secret. Needs the database."""
        from djstripe.models import WebhookEndpoint

        from .routes import webhook_endpoints_create

        djstripe_uuid = uuid.uuid4()
        url = f"http://{host}/stripe/webhook/{djstripe_uuid}/"
        with self.engine.lock:
            created = webhook_endpoints_create(
                self.engine, {"url": url, "enabled_events": enabled_events or ["*"]}
            )
        return WebhookEndpoint.objects.create(
            id=created["id"],
            livemode=False,
            api_version=self.engine_api_version(),
            enabled_events=created["enabled_events"],
            secret=created["secret"],
            status="enabled",
            url=url,
            djstripe_uuid=djstripe_uuid,
        )

    @staticmethod
    def engine_api_version() -> str:
        from .engine import API_VERSION

        return API_VERSION

    def pending_deliveries(self) -> list[Obj]:
        with self.engine.lock:
            return [dict(d) for d in self.engine.deliveries]

    def deliver_webhooks(
        self, client: Any, *, order: str = "created", raise_on_error: bool = True, max_rounds: int = 20
    ) -> list[tuple[str, int]]:
        """POST every pending signed event to its endpoint with Django's test ``client``.

        The bytes and the ``Stripe-Signature`` header are exactly what the server would send.
        Handling one event may create more (dj-stripe re-fetches; project code calls Stripe), so
        this repeats until the queue is empty. ``order``: "created", "reversed" or "shuffled"
        (Stripe does not guarantee order). Returns ``[(event type, status)]``; a non-2xx answer
        raises AssertionError unless ``raise_on_error=False`` (then it stays queued for retry).
        """
        import random

        results: list[tuple[str, int]] = []
        for _ in range(max_rounds):
            batch = self.engine.take_deliveries()
            if not batch:
                break
            if order == "reversed":
                batch.reverse()
            elif order == "shuffled":
                random.Random(len(results)).shuffle(batch)  # noqa: S311 - test ordering, not security
            failures = []
            for delivery in batch:
                url, payload, headers = self.engine.signed_delivery(delivery)
                path = urllib.parse.urlsplit(url).path
                response = client.post(
                    path,
                    data=payload,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
                )
                event_type = self.engine.get("event", delivery["event"])["type"]
                results.append((event_type, response.status_code))
                if 200 <= response.status_code < 300:
                    self.engine.delivered(delivery)
                else:
                    self.engine.requeue(delivery, status=response.status_code)
                    failures.append((event_type, response.status_code, response.content[:500]))
            if failures:
                if raise_on_error:
                    raise AssertionError(f"webhook deliveries failed: {failures}")
                break
        return results


@pytest.fixture(scope="session")
def stripe_local_server() -> Iterator[StripeLocalServer]:
    """One stand-in per test session, on a free port, without background delivery."""
    server, thread, _ = start("127.0.0.1:0", deliver=False)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def stripe_local(stripe_local_server: StripeLocalServer, settings: Any) -> Iterator[StripeLocal]:
    """A fresh stand-in state for this test, with stripe-python and dj-stripe pointed at it."""
    import stripe

    stripe_local_server.engine.reset()
    base_url = stripe_local_server.engine.base_url
    settings.STRIPE_API_HOST = base_url
    settings.STRIPE_USE_LOCAL = True
    previous = stripe.api_base
    stripe.api_base = base_url
    handle = StripeLocal(stripe_local_server)
    handle.api_key = settings.STRIPE_TEST_SECRET_KEY or handle.api_key
    try:
        yield handle
    finally:
        stripe.api_base = previous
