"""Benchmark: signed Stripe webhooks through dj-stripe's endpoint, and concurrent duplicates.

1. Throughput: signed events (fresh ids, so each is processed) posted one after another through
   Django's whole stack to ``/stripe/webhook/<uuid>/``: signature check, dj-stripe's re-fetch of
   the object from the local Stripe stand-in (in this process, over HTTP), its sync into
   PostgreSQL, and the billing app's handler. Reported as events per second, per event type.
2. Duplicates: 50 threads post the *same* signed ``invoice.payment_failed`` at once (dj-stripe's
   per-event-id idempotency), then 50 threads post 50 *different* event ids about the same failed
   invoice (the billing app's own unique key). Each must give exactly one e-mail and one
   BillingNotification row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_billing REDIS_URL=redis://127.0.0.1:6379/6 \
        .venv/bin/python bench/billing_webhooks.py [--events 150]

It copies the pytest database ``test_<name>`` (which ``pytest --reuse-db`` keeps) into a scratch
database ``bench_<name>``, works there with real commits (threads need them), and drops it at
the end. Takes about half a minute on two cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_billing")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ["EMAIL_URL"] = "memorymail://"

import psycopg  # noqa: E402

_url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
_name = _url.path.lstrip("/")
TEMPLATE, SCRATCH = f"test_{_name}", f"bench_{_name}"
_admin_dsn = urllib.parse.urlunsplit(_url._replace(path="/postgres"))


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # trusted literal SQL of the bench


_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}"')
_admin(f'CREATE DATABASE "{SCRATCH}" TEMPLATE "{TEMPLATE}"')
os.environ["DATABASE_URL"] = urllib.parse.urlunsplit(_url._replace(path=f"/{SCRATCH}"))
os.environ["DATABASE_CONN_MAX_AGE"] = "0"

import django  # noqa: E402

django.setup()

import stripe  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from djstripe.models import Event  # noqa: E402

from accounts.tests.factories import UserFactory  # noqa: E402
from billing.catalogue import catalogue_ensure, catalogue_sync  # noqa: E402
from billing.checkout import checkout_session_create  # noqa: E402
from billing.models import BillingNotification  # noqa: E402
from stripe_local.engine import Engine  # noqa: E402
from stripe_local.pytest_plugin import StripeLocal  # noqa: E402
from stripe_local.server import start  # noqa: E402


def _post(client: Client, path: str, body: bytes, secret: str) -> int:
    signature = Engine.sign(body, secret)
    return client.post(
        path, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    ).status_code


def _deliver_all(handle: StripeLocal, *, hold: str | None = None) -> list[dict]:
    """Delivers every queued event; returns (undelivered) the payloads of type ``hold``."""
    held = []
    client = Client()
    for _ in range(30):
        batch = handle.engine.take_deliveries()
        if not batch:
            break
        for delivery in batch:
            event = handle.engine.get("event", delivery["event"])
            if event["type"] == hold:
                held.append(handle.engine.out(event))
                handle.engine.delivered(delivery)
                continue
            url, payload, headers = handle.engine.signed_delivery(delivery)
            status = client.post(
                urllib.parse.urlsplit(url).path,
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            ).status_code
            assert 200 <= status < 300, (event["type"], status)
            handle.engine.delivered(delivery)
    return held


def _subscribe(handle: StripeLocal, *, card: str, lookup_key: str) -> object:
    user = UserFactory()
    price_id = stripe.Price.list(lookup_keys=[lookup_key]).data[0].id
    url = checkout_session_create(user=user, price_id=price_id)
    page = handle.pay_checkout(url, card=card)
    assert page.status == 303, page.text[:300]
    return user


def _concurrent(path: str, bodies: list[bytes], secret: str) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def run(i: int) -> None:
        client = Client()
        barrier.wait()
        try:
            statuses[i] = _post(client, path, bodies[i], secret)
        except Exception:  # noqa: BLE001 - the test client re-raises a 500's exception
            statuses[i] = 500
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=150, help="events per type for the throughput run")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    setup_test_environment()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALLOWED_HOSTS = ["testserver"]
    cache.clear()

    server, thread, _ = start("127.0.0.1:0", deliver=False)
    stripe.api_base = server.engine.base_url
    handle = StripeLocal(server)
    try:
        endpoint = handle.webhook_endpoint()
        path = f"/stripe/webhook/{endpoint.djstripe_uuid}/"
        catalogue_ensure()
        catalogue_sync()
        _deliver_all(handle)

        # Warm state: one paying user (the events re-fetch their subscription/invoice/customer).
        _subscribe(handle, card="4242424242424242", lookup_key="team_monthly")
        _deliver_all(handle)
        samples = {
            t: handle.events(t)[-1]
            for t in ("customer.subscription.updated", "invoice.paid", "customer.updated")
            if handle.events(t)
        }
        if "customer.subscription.updated" not in samples:
            samples["customer.subscription.created"] = handle.events("customer.subscription.created")[-1]

        client = Client()
        print(f"Throughput ({args.events} signed events per type, sequential, fresh event ids):")
        for event_type, sample in samples.items():
            timings = []
            for i in range(args.events):
                event = dict(sample, id=f"evt_bench{event_type.replace('.', '')}{i:06d}x")
                body = json.dumps(event).encode()
                start_t = time.perf_counter()
                status = _post(client, path, body, endpoint.secret)
                timings.append(time.perf_counter() - start_t)
                assert status == 200, (event_type, status)
            total = sum(timings)
            print(
                f"  {event_type:32} {args.events / total:7.1f} events/s   "
                f"median {statistics.median(timings) * 1000:6.1f} ms   p95 {sorted(timings)[int(len(timings) * 0.95)] * 1000:6.1f} ms"
            )

        # A failed renewal whose invoice.payment_failed is held back for the concurrency runs.
        _subscribe(handle, card="4000000000000341", lookup_key="pro_monthly")
        _deliver_all(handle)
        handle.advance(days=15)
        held = _deliver_all(handle, hold="invoice.payment_failed")
        assert held, "no invoice.payment_failed was produced"
        failed = held[0]
        invoice_id = failed["data"]["object"]["id"]
        mail.outbox = []

        print("Duplicates (50 threads at once, PostgreSQL, real commits):")
        body = json.dumps(failed).encode()
        statuses = _concurrent(path, [body] * 50, endpoint.secret)
        events = Event.objects.filter(id=failed["id"]).count()
        notes = BillingNotification.objects.filter(stripe_object_id=invoice_id).count()
        mails = len([m for m in mail.outbox if "payment failed" in m.subject])
        print(
            f"  same event id x50:      statuses {sorted(set(statuses))}  Event rows {events}  notifications {notes}  e-mails {mails}"
        )
        ok_same = events == 1 and notes == 1 and mails == 1

        bodies = [json.dumps(dict(failed, id=f"evt_benchdup{i:04d}x")).encode() for i in range(50)]
        statuses = _concurrent(path, bodies, endpoint.secret)
        events = Event.objects.filter(type="invoice.payment_failed").count()
        notes = BillingNotification.objects.filter(stripe_object_id=invoice_id).count()
        mails = len([m for m in mail.outbox if "payment failed" in m.subject])
        print(
            f"  50 event ids, 1 invoice: statuses {sorted(set(statuses))}  Event rows {events}  notifications {notes}  e-mails {mails}"
        )
        ok_distinct = notes == 1 and mails == 1
        print("RESULT:", "exactly one side effect" if ok_same and ok_distinct else "DUPLICATE SIDE EFFECTS")
    finally:
        server.shutdown()
        server.server_close()
        connections.close_all()
        _admin(f'DROP DATABASE IF EXISTS "{SCRATCH}"')


if __name__ == "__main__":
    main()
