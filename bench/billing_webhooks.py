"""Benchmark: Stripe webhooks acknowledged by gunicorn, processed by Celery workers.

Phases, in one run (ratios are only compared within a run):

1. Acknowledgement: ``--ack-events`` signed events with fresh ids (copies of a real
   ``customer.subscription.updated`` from the stand-in), requests built and signed before the
   timed window, sent from bare sockets by 16 concurrent senders to ``/stripe/webhook/<uuid>/``
   on gunicorn with the production ``gunicorn.conf.py``: first half as many through Django's
   own handler and full middleware stack (a reference, same view and store), then through the
   production application (``config.wsgi``: the lean route). No worker runs meanwhile: the
   endpoint verifies the signature, inserts the inbox row and wakes a drain. CPU per event is
   read per process (gunicorn, the senders, the PostgreSQL backends). Target: >= 300 events/s.
2. Processing: the queued events drained by 1 Celery worker process, then by 2 (each
   ``--concurrency 1``), ``--process-events`` each, timed from the first to the last event done
   after a warm-up; processing is dj-stripe's re-fetch from the Stripe stand-in (its own process,
   over HTTP), the sync into PostgreSQL and the billing handlers; PostgreSQL's lock waits are
   sampled every 20 ms meanwhile. Target: 2 workers >= 1.6x.
3. A worker killed mid-event: a worker (``--pool solo``, so the process that dies is the one
   running the event) gets SIGKILL while events are flowing; a new worker drains the inbox; the
   event the dead one had claimed is due again when its lease ends (fast-forwarded here) and
   ``webhook_events_sweep`` wakes a drain for it. Every event must end processed
   exactly once (one ``Event`` row each, inbox rows done).
4. Duplicates: 50 concurrent copies of one new signed event through gunicorn, with a worker
   running: one stored event, one ``Event`` row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_webhooks REDIS_URL=redis://127.0.0.1:6379/6 \
        /work/main/.venv/bin/python bench/billing_webhooks.py [--ack-events 3000] [--process-events 300]

It copies the pytest database ``test_<name>`` (which ``pytest --reuse-db`` keeps) into a scratch
database ``bench_<name>``, purges the Celery queue of ``REDIS_URL``'s database (use one of your
own), talks only to 127.0.0.1, stops only the processes it started (by pid) and drops the
scratch database at the end. About two minutes on two cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_webhooks")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ["CELERY_BROKER_URL"] = os.environ["REDIS_URL"]
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # the setup below runs its webhooks inline
os.environ["EMAIL_URL"] = "dummymail://"
os.environ["STRIPE_USE_LOCAL"] = "1"

import psycopg  # noqa: E402

_url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
_name = _url.path.lstrip("/")
TEMPLATE, SCRATCH = f"test_{_name}", f"bench_{_name}"
_admin_dsn = urllib.parse.urlunsplit(_url._replace(path="/postgres"))
SCRATCH_URL = urllib.parse.urlunsplit(_url._replace(path=f"/{SCRATCH}"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


STANDIN_PORT = _free_port()
os.environ["STRIPE_API_HOST"] = f"http://127.0.0.1:{STANDIN_PORT}"


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_dsn, autocommit=True) as conn:
        conn.execute(sql.encode())  # trusted literal SQL of the bench


_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}"')
_admin(f'CREATE DATABASE "{SCRATCH}" TEMPLATE "{TEMPLATE}"')
os.environ["DATABASE_URL"] = SCRATCH_URL
os.environ["DATABASE_CONN_MAX_AGE"] = "0"

import django  # noqa: E402

django.setup()

import stripe  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from djstripe.models import Event, WebhookEventTrigger  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.tests.factories import UserFactory  # noqa: E402
from billing.catalogue import catalogue_ensure, catalogue_sync  # noqa: E402
from billing.checkout import checkout_session_create  # noqa: E402
from billing.models import WebhookInbox  # noqa: E402
from billing.webhook_intake import webhook_events_sweep  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from stripe_local.engine import Engine  # noqa: E402
from stripe_local.pytest_plugin import StripeLocal  # noqa: E402
from stripe_local.server import start  # noqa: E402

SENDERS = 16
BIN = Path(sys.executable).parent
# What every process this bench starts runs with: production settings on loopback.
CHILD_ENV = {
    **os.environ,
    "DJANGO_DEBUG": "0",
    "DJANGO_TESTING": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "DATABASE_CONN_MAX_AGE": "600",
    # Production settings refuse the stand-in by name: a real-looking test key pointed at it
    # (STRIPE_API_HOST, plain HTTP on loopback), allowed only with PRODUCTION_REHEARSAL=1,
    # as the production rehearsal does (config/settings.py).
    "PRODUCTION_REHEARSAL": "1",
    "STRIPE_USE_LOCAL": "0",
    "STRIPE_TEST_SECRET_KEY": "sk_test_localstandin000000000000000000",
}


# --- Setup, in this process: the catalogue and one paying customer --------------------------------


def _deliver_all(handle: StripeLocal) -> None:
    client = Client()
    for _ in range(30):
        batch = handle.engine.take_deliveries()
        if not batch:
            return
        for delivery in batch:
            url, payload, headers = handle.engine.signed_delivery(delivery)
            status = client.post(
                urllib.parse.urlsplit(url).path,
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            ).status_code
            assert 200 <= status < 300, status
            handle.engine.delivered(delivery)


def _setup(state_path: str) -> tuple[str, str, dict]:
    """Returns the webhook path, its secret and a sample event to copy."""
    server, _thread, _ = start(f"127.0.0.1:{STANDIN_PORT}", state_path=state_path, deliver=False)
    stripe.api_base = server.engine.base_url
    handle = StripeLocal(server)
    try:
        endpoint = handle.webhook_endpoint()
        catalogue_ensure()
        catalogue_sync()
        _deliver_all(handle)
        user: User = UserFactory()  # type: ignore[assignment]  # factory_boy returns the model
        price_id = stripe.Price.list(lookup_keys=["team_monthly"]).data[0].id
        page = handle.pay_checkout(
            checkout_session_create(user=user, price_id=price_id), card="4242424242424242"
        )
        assert page.status == 303, page.text[:300]
        _deliver_all(handle)
        kind = "customer.subscription.updated"
        sample = (handle.events(kind) or handle.events("customer.subscription.created"))[-1]
        return f"/stripe/webhook/{endpoint.djstripe_uuid}/", endpoint.secret, sample
    finally:
        server.shutdown()
        server.server_close()


# --- Processes this bench starts and stops ---------------------------------------------------


def _spawn(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter's tools with fixed arguments
        args, cwd=ROOT, env=CHILD_ENV, start_new_session=True, stdout=subprocess.DEVNULL
    )


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stops a process this bench started, by pid: ``sig`` to the process itself (gunicorn's and
    Celery's main processes stop their own children on SIGTERM, finishing the event in hand), then,
    if it is still there after 30 s, SIGKILL to its whole session (only what it started)."""
    if process.poll() is None:
        os.kill(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_http(port: int, path: str, what: str) -> None:
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not start")


def _standin(state_path: str) -> subprocess.Popen:
    env_args = [str(BIN / "python"), "manage.py", "stripe_local", "--addr", f"127.0.0.1:{STANDIN_PORT}"]
    process = subprocess.Popen(  # noqa: S603 - our own manage.py
        [*env_args, "--state", state_path, "--no-webhooks"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", "DJANGO_TESTING": "0"},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_http(STANDIN_PORT, "/_local/clock", "the stand-in")
    return process


# The production application (the lean webhook route in front of Django), and Django's own
# handler alone: every request through the whole middleware stack to the view, as a reference.
LEAN_APP = "config.wsgi:application"
DJANGO_APP = "django.core.wsgi:get_wsgi_application()"


def _gunicorn(port: int, app: str = LEAN_APP) -> subprocess.Popen:
    process = _spawn(
        [
            str(BIN / "gunicorn"),
            app,
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--max-requests",
            "0",  # no worker restart (a fresh Django import) inside the measurement
            "--log-level",
            "warning",
        ]
    )
    _wait_http(port, "/healthz", "gunicorn")
    return process


def _worker(name: str, *, pool: str = "prefork") -> subprocess.Popen:
    return _spawn(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool",
            pool,
            "--concurrency",
            "1",
            "-n",
            f"{name}@bench",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
        ]
    )


# --- Traffic ---------------------------------------------------------------------------------


def _signed_bodies(sample: dict, prefix: str, count: int, secret: str) -> list[tuple[bytes, str]]:
    out = []
    for i in range(count):
        body = json.dumps(dict(sample, id=f"evt_{prefix}{i:07d}x")).encode()
        out.append((body, Engine.sign(body, secret)))
    return out


def _request(port: int, path: str, body: bytes, signature: str) -> bytes:
    """The whole HTTP request, built (and signed) before any timing starts."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Stripe-Signature: {signature}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _send(port: int, request: bytes) -> tuple[int, float]:
    """Sends one pre-built request on a new connection (as Stripe does); its status and time.
    A bare socket: the sender's CPU per event is a fraction of http.client's."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer[9:12]), time.perf_counter() - started


def _post(port: int, path: str, body: bytes, signature: str) -> tuple[int, float]:
    return _send(port, _request(port, path, body, signature))


def _send_all(
    port: int, path: str, deliveries: list[tuple[bytes, str]]
) -> tuple[float, list[int], list[float]]:
    requests = [_request(port, path, *d) for d in deliveries]
    started = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        results = list(pool.map(lambda r: _send(port, r), requests))
    elapsed = time.perf_counter() - started
    return elapsed, [s for s, _ in results], [t for _, t in results]


def _done(prefix: str) -> int:
    count = WebhookInbox.objects.filter(event_id__startswith=f"evt_{prefix}", state="done").count()
    connections.close_all()
    return count


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class _LockSampler(threading.Thread):
    """Samples, every 20 ms, what each PostgreSQL backend of the scratch database is doing: what
    serialises the workers, if anything, shows as backends waiting on a lock."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.samples = 0
        self.lock_waits = 0
        self.locks: dict[str, int] = {}

    def run(self) -> None:
        with psycopg.connect(SCRATCH_URL, autocommit=True) as conn:
            while not self.stop.wait(0.02):
                rows = conn.execute(
                    "SELECT wait_event_type, wait_event, left(query, 70) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for wait_type, wait_event, query in rows:
                    if wait_type == "Lock":
                        self.lock_waits += 1
                        key = f"{wait_event}: {query}"
                        self.locks[key] = self.locks.get(key, 0) + 1


def _drain_rate(
    prefix: str, workers: int, start_at: int, count: int, warmup: int, timeout: float, standin_pid: int
) -> tuple[float, str]:
    """Starts ``workers`` worker processes, waits for ``warmup`` more events done, then times the
    next ``count``; stops the workers; returns events per second and where the time went."""
    procs = [_worker(f"w{workers}-{i}") for i in range(workers)]
    try:
        if not _wait_until(lambda: _done(prefix) >= start_at + warmup, timeout):
            raise SystemExit(f"{workers} worker(s): warm-up did not finish in {timeout:.0f} s")
        first = _done(prefix)
        db_before = _backends_cpu()
        sampler = _LockSampler()
        sampler.start()
        started, busy = time.perf_counter(), _machine_busy_seconds()
        own = (
            sum(_cpu_seconds(p.pid) for p in procs),
            _cpu_seconds(standin_pid),
        )
        if not _wait_until(lambda: _done(prefix) >= first + count, timeout):
            raise SystemExit(f"{workers} worker(s): {count} events not processed in {timeout:.0f} s")
        elapsed, busy = time.perf_counter() - started, _machine_busy_seconds() - busy
        sampler.stop.set()
        sampler.join()
        done = _done(prefix) - first
        worker_s = sum(_cpu_seconds(p.pid) for p in procs) - own[0]
        standin_ms = (_cpu_seconds(standin_pid) - own[1]) / done * 1000
        db_ms = _backends_delta(db_before) / done * 1000
        top = max(sampler.locks.items(), key=lambda kv: kv[1], default=("none", 0))[0]
        cost = (
            f"CPU ms per event: workers {worker_s / done * 1000:.1f}, their PostgreSQL backends {db_ms:.1f}, "
            f"stand-in {standin_ms:.1f}, whole machine {busy / done * 1000:.1f}; each worker on a CPU "
            f"{worker_s / elapsed / workers:.0%} of the time; backends waiting on a lock in "
            f"{sampler.lock_waits}/{sampler.samples} samples (most: {top}); machine busy "
            f"{busy / elapsed / (os.cpu_count() or 1):.0%}; load average {os.getloadavg()[0]:.1f}"
        )
        return done / elapsed, cost
    finally:
        for proc in procs:
            _stop(proc)


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (gunicorn's workers), from /proc."""
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [pid, *map(int, children)]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return total


def _machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy (every process, ours and anyone else's)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _TICK


def _postgres_backends() -> list[int]:
    """The PostgreSQL server processes serving the scratch database (the gunicorn workers'
    persistent connections, once warm): their CPU is the database's share of an event."""
    with psycopg.connect(SCRATCH_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def _own_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _backends_cpu() -> dict[int, float]:
    now = {pid: _own_cpu(pid) for pid in _postgres_backends()}
    return {pid: cpu for pid, cpu in now.items() if cpu is not None}


def _backends_delta(before: dict[int, float]) -> float:
    """CPU the backends alive at both ends spent in between (one that ended took its time with
    it: started before the window and ended inside it, it is left out)."""
    after = {pid: _own_cpu(pid) for pid in before}
    return sum(cpu - before[pid] for pid, cpu in after.items() if cpu is not None)


def _ack_phase(
    port: int, web_pid: int, path: str, secret: str, sample: dict, count: int, prefix: str
) -> dict[str, float]:
    # Warm every gunicorn worker (imports, connections) with events of their own.
    _send_all(port, path, _signed_bodies(sample, f"{prefix}warm", 200, secret))
    deliveries = _signed_bodies(sample, prefix, count, secret)
    db_before = _backends_cpu()
    web_cpu, machine, senders = _cpu_seconds(web_pid), _machine_busy_seconds(), time.process_time()
    elapsed, statuses, timings = _send_all(port, path, deliveries)
    web_cpu, machine = _cpu_seconds(web_pid) - web_cpu, _machine_busy_seconds() - machine
    senders = time.process_time() - senders
    db_cpu = _backends_delta(db_before)
    assert statuses == [200] * count, sorted(set(statuses))
    timings.sort()
    return {
        "web_ms": web_cpu / count * 1000,
        "senders_ms": senders / count * 1000,
        "db_ms": db_cpu / count * 1000,
        "machine_ms": machine / count * 1000,
        "busy": machine / elapsed / (os.cpu_count() or 1),
        "rate": count / elapsed,
        "p50": statistics.median(timings) * 1000,
        "p95": timings[int(len(timings) * 0.95)] * 1000,
        "p99": timings[int(len(timings) * 0.99)] * 1000,
    }


def _kill_phase(port: int, path: str, secret: str, sample: dict) -> str:
    total = 60
    prefix = "benchkill"
    _send_all(port, path, _signed_bodies(sample, prefix, total, secret))
    victim = _worker("victim", pool="solo")
    if not _wait_until(lambda: _done(prefix) >= 10, 120):
        raise SystemExit("the victim worker processed nothing")
    _stop(victim, signal.SIGKILL)  # mid-stream: it is always busy while the queue is full
    at_kill = _done(prefix)
    survivor = _worker("survivor")
    try:
        webhook_events_sweep()  # what beat does every minute: wakes a drain for the rest
        _wait_until(lambda: _done(prefix) >= total - 1, 120)
        time.sleep(2)  # let the survivor finish what is queued
        held = WebhookInbox.objects.filter(event_id__startswith=f"evt_{prefix}").exclude(state="done")
        pending = held.count()
        # The dead worker's claim would end after WEBHOOK_CLAIM_LEASE_SECONDS: fast-forwarded here.
        held.update(next_attempt_at=timezone.now())
        swept = webhook_events_sweep()
        _wait_until(lambda: _done(prefix) >= total, 60)
    finally:
        _stop(survivor)
    done = _done(prefix)
    events = Event.objects.filter(id__startswith=f"evt_{prefix}").count()
    ok = done == total and events == total
    return (
        f"{total} events; SIGKILL after {at_kill} done; the new worker left {pending} pending (claimed by the "
        f"dead one); once its lease ended the sweep found {swept} due; finally done {done}/{total}, Event rows "
        f"{events}: " + ("none lost, none twice" if ok else "LOST OR DUPLICATED")
    )


def _duplicate_phase(port: int, path: str, secret: str, sample: dict) -> str:
    body, signature = _signed_bodies(sample, "benchdup", 1, secret)[0]
    request = _request(port, path, body, signature)
    worker = _worker("dup")
    try:
        barrier = threading.Barrier(50)

        def send(_: int) -> int:
            barrier.wait()
            return _send(port, request)[0]

        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(send, range(50)))
        _wait_until(lambda: _done("benchdup") >= 1, 60)
    finally:
        _stop(worker)
    event_id = json.loads(body)["id"]
    inbox = WebhookInbox.objects.filter(event_id=event_id).count()
    stored = WebhookEventTrigger.objects.filter(body__contains=event_id).count()
    events = Event.objects.filter(id=event_id).count()
    ok = stored == inbox == events == 1
    return (
        f"50 copies at once: statuses {sorted(set(statuses))}, inbox rows {inbox}, delivery (trigger) rows "
        f"{stored}, Event rows {events}: " + ("one" if ok else "DUPLICATES")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ack-events", type=int, default=3000)
    parser.add_argument("--process-events", type=int, default=300, help="timed events per worker count")
    parser.add_argument("--warmup-events", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=240, help="seconds allowed per processing phase")
    args = parser.parse_args()
    needed = 2 * (args.warmup_events + args.process_events)
    if args.ack_events < needed:
        raise SystemExit(f"--ack-events must be at least {needed}")
    logging.disable(logging.CRITICAL)
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    cache.clear()
    celery_app.control.purge()

    state_path = str(Path(tempfile.mkdtemp()) / "stripe-state.json")
    path, secret, sample = _setup(state_path)
    connections.close_all()
    celery_app.conf.task_always_eager = False  # from here on the sweep queues for the workers
    port = _free_port()
    standin = _standin(state_path)
    web = None
    try:
        results = {}
        for name, app, prefix, count in (
            ("Django's handler and middleware (reference)", DJANGO_APP, "benchref", args.ack_events // 2),
            ("lean route (production)", LEAN_APP, "benchack", args.ack_events),
        ):
            web = _gunicorn(port, app)
            # Phase 2 drains what phase 1 queued: the warm-up events first, then the timed ones.
            ack = results[name] = _ack_phase(port, web.pid, path, secret, sample, count, prefix)
            _stop(web)
            web = None
            print(
                f"Acknowledgement, {name}, gunicorn ({os.cpu_count()} cores), {SENDERS} senders, {count} "
                f"signed events: {ack['rate']:.0f} events/s, p50 {ack['p50']:.1f} ms, p95 {ack['p95']:.1f} ms, "
                f"p99 {ack['p99']:.1f} ms\n"
                f"  CPU ms per event: gunicorn {ack['web_ms']:.2f}, senders {ack['senders_ms']:.2f}, "
                f"PostgreSQL backends {ack['db_ms']:.2f}; these together "
                f"{ack['web_ms'] + ack['senders_ms'] + ack['db_ms']:.2f} (2 cores / that = "
                f"{2000 / (ack['web_ms'] + ack['senders_ms'] + ack['db_ms']):.0f} events/s if nothing else ran); "
                f"whole machine {ack['machine_ms']:.2f} (the rest: Redis, PostgreSQL's WAL writer, the kernel, "
                f"anyone else's load); machine busy {ack['busy']:.0%}; load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        web = _gunicorn(port)
        # The queue holds the warm-up events, then the timed ones: both count as processed here.
        timing = (args.process_events, args.warmup_events, args.timeout, standin.pid)
        one, one_cost = _drain_rate("bench", 1, 0, *timing)
        two, two_cost = _drain_rate("bench", 2, _done("bench"), *timing)
        print(
            f"Processing ({args.process_events} events each, after {args.warmup_events} warm-up): "
            f"1 worker {one:.1f} events/s, 2 workers {two:.1f} events/s, ratio {two / one:.2f}x\n"
            f"  1 worker:  {one_cost}\n  2 workers: {two_cost}",
            flush=True,
        )
        # The rest of phase 1's events are not needed further: out of the queue and the inbox, so
        # the sweep below sees only the killed worker's.
        celery_app.control.purge()
        WebhookInbox.objects.filter(state=WebhookInbox.State.PENDING).delete()
        print("Worker killed mid-event:", _kill_phase(port, path, secret, sample), flush=True)
        print("Duplicates:", _duplicate_phase(port, path, secret, sample), flush=True)
        print(
            "Targets: acknowledgement >= 300/s "
            + ("met" if results["lean route (production)"]["rate"] >= 300 else "NOT met")
            + "; 2 workers >= 1.6x "
            + ("met" if two / one >= 1.6 else "NOT met")
        )
    finally:
        if web is not None:
            _stop(web)
        _stop(standin)
        celery_app.control.purge()
        connections.close_all()
        _admin(f'DROP DATABASE IF EXISTS "{SCRATCH}"')


if __name__ == "__main__":
    main()
