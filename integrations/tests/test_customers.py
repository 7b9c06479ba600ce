"""A Stripe customer for every verified user, on the Stripe stand-in.

Sign-up never waits for or fails because of Stripe; when the stand-in is down the task retries,
and once it is back there is exactly one customer, linked to the user through dj-stripe.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import stripe
from django.core import mail
from django.core.management import call_command
from djstripe.models import Customer

from accounts.models import User
from accounts.tests.factories import UserFactory
from billing.selectors import user_list_without_customer
from integrations.tasks import stripe_customer_sync, stripe_customers_backfill

pytestmark = pytest.mark.django_db

DEAD = "http://127.0.0.1:9"  # nothing listens here: the stand-in is "down"
PASSWORD = "a-long-sign-up-password-42"


@pytest.fixture
def stripe_down(stripe_local, settings):
    """Points stripe-python at a closed port until ``back()`` is called."""

    class Switch:
        def back(self) -> None:
            settings.STRIPE_API_HOST = stripe_local.engine.base_url
            stripe.api_base = stripe_local.engine.base_url

    settings.STRIPE_API_HOST = DEAD
    stripe.api_base = DEAD
    settings.STRIPE_CUSTOMER_SYNC_MAX_RETRIES = 1  # eager retries run at once; keep the test short
    yield Switch()
    Switch().back()


def remote_customers(stripe_local, email: str) -> list:
    return [c for c in stripe.Customer.list(limit=100, api_key=stripe_local.api_key).data if c.email == email]


def sign_up_and_confirm(client, django_capture_on_commit_callbacks, *, email: str, handle: str):
    response = client.post(
        "/accounts/signup/",
        {"email": email, "username": handle, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302, response.content
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[-1].body).group(0)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link)
    assert confirmed.status_code == 302
    return User.objects.get(email=email)


def test_verifying_the_email_creates_one_customer(client, stripe_local, django_capture_on_commit_callbacks):
    user = sign_up_and_confirm(
        client, django_capture_on_commit_callbacks, email="ann@example.com", handle="annie"
    )
    customer = Customer.objects.get(subscriber=user)
    assert customer.email == "ann@example.com"
    [remote] = remote_customers(stripe_local, "ann@example.com")
    assert remote.id == customer.id
    assert remote.metadata["djstripe_subscriber"] == str(user.pk)


def test_sign_up_succeeds_while_stripe_is_down_and_the_customer_follows(
    client, stripe_local, stripe_down, django_capture_on_commit_callbacks
):
    user = sign_up_and_confirm(
        client, django_capture_on_commit_callbacks, email="bo@example.com", handle="bobby"
    )
    assert user.is_active
    assert not Customer.objects.filter(subscriber=user).exists()
    assert list(user_list_without_customer()) == [user]

    stripe_down.back()
    # The task's next retry (what the worker runs after its backoff) now succeeds...
    assert stripe_customer_sync.delay(user_id=user.pk).get() is not None
    # ...and anything else that runs later (the daily backfill, a duplicate retry) adds nothing.
    assert stripe_customers_backfill.delay().get() == 0
    stripe_customer_sync.delay(user_id=user.pk).get()
    call_command("integrations_backfill_customers")
    assert Customer.objects.filter(subscriber=user).count() == 1
    assert len(remote_customers(stripe_local, "bo@example.com")) == 1


def test_the_backfill_command_creates_missing_customers_once(stripe_local, capsys):
    first, second = UserFactory(), UserFactory()
    unverified = UserFactory(verified=False)
    inactive = UserFactory(is_active=False)
    call_command("integrations_backfill_customers", "--dry-run")
    assert f"would create: {first.pk}" in capsys.readouterr().out
    assert not Customer.objects.exists()

    call_command("integrations_backfill_customers")
    assert "customers created: 2, failed: 0" in capsys.readouterr().out
    call_command("integrations_backfill_customers")
    assert "customers created: 0, failed: 0" in capsys.readouterr().out
    assert set(Customer.objects.values_list("subscriber_id", flat=True)) == {first.pk, second.pk}
    assert not Customer.objects.filter(subscriber__in=[unverified, inactive]).exists()


def test_the_backfill_command_reports_failures_when_stripe_is_down(stripe_local, stripe_down, capsys):
    UserFactory()
    with pytest.raises(SystemExit):
        call_command("integrations_backfill_customers")
    assert "failed: 1" in capsys.readouterr().out
    stripe_down.back()
    call_command("integrations_backfill_customers")
    assert Customer.objects.count() == 1


def test_an_email_change_is_sent_to_stripe(client, stripe_local, django_capture_on_commit_callbacks):
    user = sign_up_and_confirm(
        client, django_capture_on_commit_callbacks, email="cy@example.com", handle="cyrus"
    )
    customer_id = Customer.objects.get(subscriber=user).id
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = client.post("/accounts/email/", {"action_add": "", "email": "cy.new@example.com"})
    assert response.status_code in (200, 302), response.content
    [message] = [m for m in mail.outbox if m.to == ["cy.new@example.com"]]
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", message.body).group(0)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email == "cy.new@example.com"
    assert stripe.Customer.retrieve(customer_id, api_key=stripe_local.api_key).email == "cy.new@example.com"
    assert Customer.objects.get(id=customer_id).email == "cy.new@example.com"
    assert Customer.objects.filter(subscriber=user).count() == 1


class _LosingProxy(ThreadingHTTPServer):
    """Forwards every request to the stand-in but loses the first ``drops`` responses, as a
    network that fails after Stripe has done the work would."""

    daemon_threads = True

    def __init__(self, target: str, drops: int) -> None:
        super().__init__(("127.0.0.1", 0), _LosingHandler)
        self.target = urlsplit(target)
        self.drops = drops
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _LosingHandler(BaseHTTPRequestHandler):
    server: _LosingProxy

    def log_message(self, *args: object) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream = http.client.HTTPConnection(
            self.server.target.hostname, self.server.target.port, timeout=10
        )
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        upstream.close()
        with self.server.lock:
            lose = self.server.drops > 0
            self.server.drops -= int(lose)
        if lose:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _forward


@pytest.fixture
def losing_network(stripe_local, settings):
    proxy = _LosingProxy(stripe_local.engine.base_url, drops=0)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_API_HOST = proxy.url
    stripe.api_base = proxy.url
    settings.STRIPE_CUSTOMER_SYNC_MAX_RETRIES = 1
    yield proxy
    proxy.shutdown()
    proxy.server_close()
    settings.STRIPE_API_HOST = stripe_local.engine.base_url
    stripe.api_base = stripe_local.engine.base_url


def test_lost_responses_and_retries_still_make_exactly_one_customer(stripe_local, losing_network):
    user = UserFactory()
    # Every attempt of the first task run (stripe-python's own retries and Celery's) reaches the
    # stand-in, which creates the customer, but no answer comes back.
    losing_network.drops = (1 + stripe.max_network_retries) * (1 + 1)
    stripe_customer_sync.delay(user_id=user.pk)
    assert losing_network.drops == 0
    assert not Customer.objects.filter(subscriber=user).exists()
    assert len(remote_customers(stripe_local, user.email)) == 1  # made, but we never heard

    # The network heals; the next retry replays the same idempotency key: still one customer.
    customer_id = stripe_customer_sync.delay(user_id=user.pk).get()
    assert Customer.objects.get(subscriber=user).id == customer_id
    assert [c.id for c in remote_customers(stripe_local, user.email)] == [customer_id]
