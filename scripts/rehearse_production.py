"""The production rehearsal (issue 17, item 3): the real processes, production settings, end to end.

Run before every release: ``scripts/check-production --rehearse`` (2-4 minutes). It does
what an operator and a first customer do on a fresh Railway deploy (docs/railway.md), on loopback:

- **Build**: ``collectstatic`` as the ``Dockerfile`` runs it (throwaway key, compressed and
  hashed files into ``staticfiles/``).
- **Services of its own**: a PostgreSQL database (created, then dropped at the end), a
  redis-server on a free port, an SMTP server (aiosmtpd, in this process), the Stripe stand-in as
  its own HTTP process (``manage.py stripe_local``) posing as Stripe, and an *edge*: a TLS proxy
  with a throwaway certificate that, like Railway's, terminates HTTPS, appends the client to
  ``X-Forwarded-For`` and sets ``X-Forwarded-Proto: https`` (``TRUSTED_PROXY_COUNT=1``).
- **The processes**, with the commands of ``railway.json``, ``railway.worker.json`` and
  ``railway.beat.json`` and the variables of docs/railway.md: the web service's
  ``preDeployCommand`` (migrations, the webhook endpoint row), then gunicorn with
  ``gunicorn.conf.py``, the Celery worker and beat. ``DJANGO_DEBUG`` is off. Only three things
  differ from a deploy: gunicorn binds 127.0.0.1 (``GUNICORN_CMD_ARGS``), beat's schedule file is
  in this run's folder, and Stripe is the stand-in: ``STRIPE_API_HOST=http://127.0.0.1:<port>``
  with ``PRODUCTION_REHEARSAL=1``, the only way production settings accept a plain-HTTP Stripe
  (a test key and a loopback address too; see config/settings.py).
- **The journey**: Stripe's webhook endpoint registered and its secret deployed (the release runs
  again), the catalogue created in "Stripe" and synced by webhooks, a sign-up through the pages
  and the link in the e-mail the SMTP server received, sign-in, a post, a Checkout paid on the
  stand-in's hosted page and the webhooks processed by the worker (the billing page shows the
  subscription), beat's periodic tasks run by the worker; static files compressed and hashed,
  plain HTTP redirected to HTTPS (and not behind the proxy), ``/healthz``.

Each step prints its result; any failure exits 1 (with the tail of the processes' logs, kept in
the run's folder). Everything started is stopped by its pid, also on failure, Ctrl-C or SIGTERM.
Talks only to 127.0.0.1. Here: the set-up, the release and the processes; the edge, the browser
and the checks are in ``rehearsal_web.py``, the customer's steps in ``rehearsal_journey.py``, the
processes and services in ``production_shape`` (shared with the fault drill and fuzz-api).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay .venv/bin/python scripts/rehearse_production.py

``DATABASE_URL`` names the PostgreSQL server (its database is not touched);
``REHEARSAL_DATABASE`` (default ``relay_rehearsal``) the database created and dropped;
``REHEARSAL_TIMEOUT`` (default 360) the seconds the whole run may take.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402
from rehearsal_journey import Journey  # noqa: E402
from rehearsal_web import Browser, Clock, Edge, RehearsalError, certificate, wait_for  # noqa: E402

from production_shape.database import database_create, database_drop, template_ensure  # noqa: E402
from production_shape.processes import Processes, ShapeError, free_port, tail  # noqa: E402
from production_shape.product import BIN, clean_env, production_env  # noqa: E402
from production_shape.services import Mailbox, RedisProcess, standin_start  # noqa: E402

STRIPE_API_VERSION = "2025-02-24.acacia"  # config/settings.py
SERVICES = (("web", "railway.json"), ("worker", "railway.worker.json"), ("beat", "railway.beat.json"))


class Rehearsal(Journey):
    def __init__(self, *, server_url: str, database: str, budget: float, keep: bool, fresh: bool) -> None:
        self.clock = Clock(budget)
        self.fresh = fresh
        self.template = ""
        self.folder = Path(tempfile.mkdtemp(prefix="relay-rehearsal-"))
        self.processes = Processes(self.folder, self.clock.remaining)
        self.keep = keep
        self.failed = False
        server = urllib.parse.urlsplit(server_url)
        self.admin_dsn = urllib.parse.urlunsplit(server._replace(path="/postgres"))
        self.database = database
        self.server = server
        self.database_url = self.url_of(database)
        self.database_created = False
        self.edge: Edge | None = None
        self.ports = {name: free_port() for name in ("web", "edge", "redis", "smtp", "stripe")}
        self.redis = RedisProcess(self.ports["redis"])
        self.mailbox = Mailbox(self.ports["smtp"])
        self.smtp_started = False
        self.site = f"https://127.0.0.1:{self.ports['edge']}"
        self.stripe_base = f"http://127.0.0.1:{self.ports['stripe']}"
        self.stripe_key = "sk_test_rehearsal" + secrets.token_hex(12)
        self.webhook_secret = "whsec_placeholder"  # noqa: S105 - docs/railway.md's step 4 value, replaced in step 8
        self.results: list[tuple[str, bool, float, str]] = []
        self.secret_key = secrets.token_urlsafe(64)
        self.cert = self.key = Path()
        self.reported: BaseException | None = None
        who = secrets.token_hex(4)
        self.address, self.handle = f"rehearsal-{who}@example.com", f"rehearsal{who}"
        self.password = f"Rehearsal-{secrets.token_urlsafe(12)}"
        self.person = Browser(self.site, self.cert)  # the new customer's browser (made in run())
        self.webhook_path = self.success_url = self.pricing = ""
        self.price: dict[str, Any] = {}
        self.beat_started = 0.0

    def url_of(self, database: str) -> str:
        return urllib.parse.urlunsplit(self.server._replace(path=f"/{database}"))

    # -- output
    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        notes: list[str] = []
        started = time.monotonic()
        try:
            yield notes
        except BaseException as exc:
            self.failed = True
            took = time.monotonic() - started
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, KeyboardInterrupt):
                reason = "interrupted"
            elif not isinstance(exc, ShapeError):
                reason = "".join(traceback.format_exception(exc)).strip()
            self.reported = exc
            self.results.append((name, False, took, reason))
            print(f"  FAIL {name} ({took:.1f} s)\n       {reason}", flush=True)
            raise
        took = time.monotonic() - started
        self.results.append((name, True, took, "; ".join(notes)))
        print(f"  ok   {name} ({took:.1f} s){': ' + '; '.join(notes) if notes else ''}", flush=True)

    # -- environments
    def production_env(self) -> dict[str, str]:
        """The variables docs/railway.md has the operator set, with this run's addresses, in a clean
        environment as in the container (nothing of this shell's)."""
        return production_env(
            clean_env(),
            secret_key=self.secret_key,
            database_url=self.database_url,
            redis_url=self.redis.url,
            email_url=f"smtp://127.0.0.1:{self.ports['smtp']}",
            stripe_api_host=self.stripe_base,  # what the rehearsal changes (module docstring)
            stripe_key=self.stripe_key,
            SITE_URL=self.site,
            DEFAULT_FROM_EMAIL="Relay <noreply@rehearsal.relay.test>",
            STRIPE_PUBLISHABLE_KEY="pk_test_rehearsal" + "0" * 24,
            STRIPE_WEBHOOK_SECRET=self.webhook_secret,
            TRUSTED_PROXY_COUNT="1",
            WEB_CONCURRENCY="2",
            CELERY_CONCURRENCY="1",
            PORT=str(self.ports["web"]),
            # What the rehearsal changes (module docstring).
            GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{self.ports['web']}",
        )

    # -- config as code
    @staticmethod
    def railway(name: str) -> dict[str, Any]:
        deploy: dict[str, Any] = json.loads((ROOT / name).read_text())["deploy"]
        return deploy

    # -- services
    def start_services(self, notes: list[str]) -> None:
        template = self.template if not self.fresh else None
        database_create(self.admin_dsn, self.database, template)
        self.database_created = True
        notes.append(f"database {self.database}" + (f" (from {template})" if template else " (empty)"))
        self.processes.adopt("redis", self.redis.start())
        notes.append(f"redis-server :{self.redis.port} (pid {self.processes.children['redis'].pid})")
        self.mailbox.start()
        self.smtp_started = True
        notes.append(f"SMTP :{self.ports['smtp']}")
        # The stand-in, as `manage.py stripe_local` runs it in development (its own process, its
        # own development settings: it is no part of the production settings). It trusts the edge's
        # certificate, as Stripe trusts a real one, to deliver webhooks to the https URL.
        stand_in = standin_start(
            self.ports["stripe"],
            self.folder / "stripe_local.json",
            webhooks=True,
            reset=True,
            env={**clean_env(), "SSL_CERT_FILE": str(self.cert)},
            log=self.processes.log_path("stripe"),
        )
        self.processes.adopt("stripe", stand_in)
        # Retries after a refused delivery come within seconds rather than Stripe's minutes.
        requests.post(f"{self.stripe_base}/_local/settings", data={"webhook_retry_base": "0.5"}, timeout=5)
        notes.append(f"Stripe stand-in :{self.ports['stripe']} (pid {stand_in.pid})")
        self.edge = Edge(self.ports["edge"], self.ports["web"], self.cert, self.key)
        notes.append(f"TLS edge :{self.ports['edge']} -> gunicorn :{self.ports['web']}")

    def template_ensure(self, notes: list[str]) -> None:
        """A database migrated to the current migration set, kept between runs (``--fresh`` leaves
        it alone): the release's migrate then runs against it as on any deploy after the first, in
        seconds instead of minutes (production_shape.database)."""
        started = time.monotonic()

        def migrate(building: str) -> None:
            env = {**self.production_env(), "DATABASE_URL": self.url_of(building)}
            # First run on a new migration set: migrations from empty take minutes on a busy 2-core
            # box, so this step has its own time (added to the run's budget).
            self.clock.deadline += 900
            try:
                self.processes.run(
                    "migrate-template",
                    [str(BIN / "python"), "manage.py", "migrate", "--noinput"],
                    env,
                    timeout=900,
                )
            finally:
                self.clock.deadline -= 900 - (time.monotonic() - started)

        self.template, built = template_ensure(self.admin_dsn, f"{self.database}_tpl_", migrate)
        if built:
            notes.append(f"{self.template} built by migrate from empty in {time.monotonic() - started:.0f} s")
        else:
            notes.append(f"{self.template} (cached)")

    def stripe(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        """The Stripe API (the stand-in), as the operator's dashboard uses it."""
        response = requests.request(
            method,
            f"{self.stripe_base}{path}",
            data=data,
            auth=(self.stripe_key, ""),
            headers={"Stripe-Version": STRIPE_API_VERSION},
            timeout=30,
        )
        if not response.ok:
            raise RehearsalError(f"Stripe {method} {path}: {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def release(self, name: str) -> str:
        """The web service's preDeployCommand, as Railway runs it before a deploy."""
        output = ""
        for command in self.railway("railway.json")["preDeployCommand"]:
            timeout = 900 if self.fresh else 120  # from empty: minutes (see template_ensure)
            output += self.processes.run(name, shlex.split(command), self.production_env(), timeout=timeout)
        return output

    def start_service(self, name: str, config: str) -> subprocess.Popen[bytes]:
        command = self.railway(config)["startCommand"]
        # Beat's schedule file: this run's folder, not a /tmp shared with anything else.
        command = command.replace("/tmp/celerybeat-schedule", str(self.folder / "celerybeat-schedule"))  # noqa: S108
        return self.processes.start(name, shlex.split(command), self.production_env())

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(query.encode(), params).fetchall()

    # -- the run: one method per step, in order
    def run(self) -> None:
        print(f"Production rehearsal (run folder {self.folder})", flush=True)
        self.cert, self.key = certificate(self.folder)
        self.person = Browser(self.site, self.cert)
        steps: list[tuple[str, Callable[[list[str]], None]]] = [
            ("build: collectstatic as the Dockerfile runs it", self.step_build),
            *(
                []
                if self.fresh
                else [("database template migrated to the current migrations", self.template_ensure)]
            ),
            ("services: PostgreSQL database, Redis, SMTP, Stripe stand-in, TLS edge", self.start_services),
            ("release (railway.json preDeployCommand): migrate + webhook endpoint row", self.step_release),
            ("Stripe: endpoint registered, its secret deployed, release again", self.step_endpoint),
            ("web (gunicorn), worker and beat start; /healthz through the edge", self.step_start),
            ("HTTPS: plain HTTP redirects, the trusted proxy header does not", self.step_https),
            ("static files: hashed names, compressed, cached for good", self.step_static),
            ("sign-up through the pages, verified by the link in the e-mail", self.step_signup),
            ("sign-in", self.step_signin),
            ("post from the home page", self.step_post),
            ("catalogue created in Stripe, synced by webhooks (worker)", self.step_catalogue),
            ("subscribe: Checkout on the stand-in, paid with a test card", self.step_subscribe),
            ("webhooks processed: the billing page shows the subscription", self.step_subscribed),
            ("beat queues the periodic tasks, the worker runs them", self.step_beat),
        ]
        for title, action in steps:
            with self.step(title) as notes:
                action(notes)

    def step_build(self, notes: list[str]) -> None:
        build_env = {
            **clean_env(),
            "DJANGO_SECRET_KEY": "build-only-" + secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "build",
            "STRIPE_TEST_SECRET_KEY": "sk_test_buildonly000000000000000000",
        }
        out = self.processes.run(
            "collectstatic",
            [str(BIN / "python"), "manage.py", "collectstatic", "--noinput"],
            build_env,
            timeout=180,
        )
        notes.append(out.strip().splitlines()[-1] if out.strip() else "done")

    def step_release(self, notes: list[str]) -> None:
        out = self.release("release")
        match = re.search(r"(/stripe/webhook/[0-9a-f-]{36}/)", out)
        if not match or "Created webhook endpoint" not in out:
            raise RehearsalError(f"the release printed no new webhook endpoint:\n{tail(out)}")
        self.webhook_path = match.group(1)
        if f"Full URL: {self.site}{self.webhook_path}" not in out:
            raise RehearsalError(f"the webhook URL is not on SITE_URL:\n{tail(out)}")
        notes.append(f"webhook URL {self.site}{self.webhook_path}")

    def step_endpoint(self, notes: list[str]) -> None:
        """docs/railway.md step 8: the endpoint in Stripe's dashboard, its secret deployed."""
        endpoint = self.stripe(
            "POST",
            "/v1/webhook_endpoints",
            {
                "url": f"{self.site}{self.webhook_path}",
                "enabled_events[]": "*",
                "api_version": STRIPE_API_VERSION,
            },
        )
        self.webhook_secret = str(endpoint["secret"])
        out = self.release("release-2")
        if "Updated webhook endpoint" not in out or self.webhook_path not in out:
            raise RehearsalError(f"the second release did not keep the endpoint's URL:\n{tail(out)}")
        notes.append(f"endpoint {endpoint['id']}, same URL after the second release")

    def step_start(self, notes: list[str]) -> None:
        for name, config in SERVICES:
            process = self.start_service(name, config)
            self.beat_started = time.monotonic()
            notes.append(f"{name} pid {process.pid}")

        def healthy() -> dict[str, Any] | None:
            self.processes.check_alive("web", "worker", "beat")
            response = requests.get(f"{self.site}/healthz", verify=str(self.cert), timeout=10)
            return response.json() if response.status_code == 200 else None

        health = wait_for("/healthz answers 200", healthy, self.clock, 90)
        if health.get("status") != "ok":
            raise RehearsalError(f"/healthz: {health}")
        notes.append(f"/healthz {json.dumps(health)}")

    def finish(self) -> int:
        print("Stopping what the rehearsal started", flush=True)
        if self.edge is not None:
            self.edge.stop()
        stopped = self.processes.stop_all()
        if self.smtp_started:
            self.mailbox.stop()
        leftovers = [p for p in stopped if self.processes.alive(p)]
        dropped = False
        if self.database_created:
            database_drop(self.admin_dsn, self.database)
            dropped = True
        print(
            f"  stopped {', '.join(stopped) or 'nothing'} (by pid), SMTP and the edge"
            + (f"; dropped database {self.database}" if dropped else ""),
            flush=True,
        )
        if leftovers:
            print(f"  FAIL still running: {leftovers}", flush=True)
            self.failed = True
        if self.failed:
            for name in ("release", "release-2", "web", "worker", "beat", "stripe"):
                log = self.processes.log_path(name)
                if log.exists() and log.stat().st_size:
                    print(f"  --- {name} log (last lines) ---\n{tail(log.read_text(errors='replace'), 15)}")
            print(
                f"Production rehearsal FAILED after {self.clock.elapsed():.0f} s (logs kept in {self.folder})"
            )
            return 1
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)
        print(f"Production rehearsal passed: {len(self.results)} steps in {self.clock.elapsed():.0f} s")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs) after a pass")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="the release migrates an empty database (a first deploy; minutes) instead of the cached template",
    )
    options = parser.parse_args()
    rehearsal = Rehearsal(
        server_url=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay"),
        database=os.environ.get("REHEARSAL_DATABASE", "relay_rehearsal"),
        budget=float(os.environ.get("REHEARSAL_TIMEOUT", "360")) + (900 if options.fresh else 0),
        keep=options.keep,
        fresh=options.fresh,
    )

    def stop_on(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Ctrl-C (also when started in the background, where SIGINT comes ignored), SIGTERM, SIGHUP.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGHUP, stop_on)
    try:
        rehearsal.run()
    except BaseException as exc:  # noqa: BLE001 - reported here or by its step, then everything is stopped
        rehearsal.failed = True
        if exc is not rehearsal.reported:
            print("  FAIL " + "".join(traceback.format_exception(exc)).strip(), flush=True)
    finally:
        # Stopping must not be interrupted by a second Ctrl-C half-way.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        status = rehearsal.finish()
    return status


if __name__ == "__main__":
    sys.exit(main())
