"""Fault drill: the product in production shape while Redis, the Stripe stand-in and PostgreSQL
connections fail under simulated users (issue 14, "How it is checked").

Started by ``scripts/fault-drill``. What runs, all on 127.0.0.1 and all stopped by pid at the end
(also on an error or Ctrl-C; the bookkeeping is ``production_shape``'s, the simulated users are in
``fault_drill_users.py``, the verdict in ``fault_drill_report.py``):

- gunicorn with the production ``gunicorn.conf.py`` (its workers), a Celery worker and Celery
  beat, talking to
- PostgreSQL: a database of the drill's own, ``relay_fault_drill``, created at the start (copied
  from the template ``relay_fault_drill_tpl_<key of the migration set>``, which the first run
  after a migration changed builds with ``migrate``; ``production_shape.database``) and dropped at
  the end;
- Redis: a redis-server of the drill's own on a free port (never the shared one);
- the Stripe stand-in as its own HTTP process (state on disk, webhooks over HTTP to gunicorn);
- an SMTP server (aiosmtpd, in this process) that counts every e-mail.

gunicorn, the worker and beat run with production settings (``DJANGO_DEBUG=0``), pointed at the
stand-in as the production rehearsal does (a test-format key and ``STRIPE_API_HOST`` on
loopback; ``STRIPE_USE_LOCAL`` is refused with debug off); only the set-up commands (catalogue,
webhook endpoint, users) and the stand-in itself run with development settings. Static files are
collected into ``staticfiles/`` when they changed.

Simulated users (threads, ``--users``) sign in through the login page, then browse (home,
explore, profiles), post (the API, as the SPA does), follow, and ``--payers`` of them pay for Team
through Checkout on the stand-in's hosted page and wait on the success page. A user who gets a
503 or a connection failure does what a person does: waits (``Retry-After``) and submits the
same thing again; the API's posts and follows carry an ``Idempotency-Key`` (one per submit, sent
again on each retry, as the SPA does), so a write that committed before its answer was lost is
replayed, not done twice (a 409 "in progress" is waited out the same way). Meanwhile, on a fixed timeline: PostgreSQL backends of the web are terminated
(``pg_terminate_backend``, the drill database and gunicorn's connections only), Redis is stopped
for ``--redis-outage`` seconds and started again, and the stand-in is SIGKILLed while a payer's
card form is being submitted, then restarted.

It prints the errors users saw (5xx, connection failures, unexpected sign-outs or 4xx), the
requests lost (acknowledged writes missing, payments not reaching the app, e-mails not sent,
webhooks not delivered, access-log lines missing) and the side effects doubled (posts, follows,
notifications, feed entries, subscriptions, charges, e-mails), and exits 1 unless all are 0.
Requests in flight at the instant of a kill (a 503 or a dropped connection whose request spans
the kill) are counted and listed apart and do not fail the drill. Exit 2: the drill itself could
not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fault_drill_report import Verdict  # noqa: E402
from fault_drill_users import PASSWORD, Kill, Outcomes, Record, SimulatedUser  # noqa: E402

from production_shape.database import database_create, database_drop, sql, template_ensure  # noqa: E402
from production_shape.processes import Processes, ShapeError, free_port, stop_on_signals, wait_http  # noqa: E402
from production_shape.product import beat_command, gunicorn_command, production_env, worker_command  # noqa: E402
from production_shape.services import Mailbox, RedisProcess, standin_call, standin_start  # noqa: E402

PG = os.environ.get("FAULT_DRILL_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "relay_fault_drill"
TEMPLATE_PREFIX = "relay_fault_drill_tpl_"  # + the migration set's key (production_shape.database)
WEB_APP_NAME = "relay-drill-web"  # gunicorn's PostgreSQL application_name: what the drill kills
TEAM = "team_monthly"  # no free trial: every checkout is a charge
LOGS = ROOT / "var" / "fault-drill"


def log(message: str) -> None:
    print(message, flush=True)


class DrillError(ShapeError):
    """The drill itself could not run (not a finding about the product)."""


class Drill(Verdict):
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.t0 = 0.0
        self.records: list[Record] = []
        self.kills: list[Kill] = []
        self.notes: list[str] = []
        self.outcomes = Outcomes()
        self.lock = threading.Lock()
        self.stop_traffic = threading.Event()
        self.stop_polling = threading.Event()
        self.victim_posting = threading.Event()
        self.standin_down = threading.Event()
        self.standin_killed = threading.Event()
        self.logs = LOGS
        self.processes = Processes(LOGS)
        self.redis = RedisProcess()
        self.mailbox = Mailbox()
        self.web_port, self.standin_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.standin = f"http://127.0.0.1:{self.standin_port}"
        self.state = LOGS / "stripe_local.json"
        self.standin_process: subprocess.Popen[bytes] | None = None
        self.handles: list[str] = []
        self.price_id = ""
        self.secret_key = secrets.token_urlsafe(60)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """The drill's own literal SQL on its database."""
        return sql(f"{PG}/{DB_NAME}", query, params)

    def record(self, rec: Record) -> None:
        with self.lock:
            self.records.append(rec)

    # --- set-up -----------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What the set-up commands run with: development settings (the stand-in's set-up
        command exists only there)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "STRIPE_"))}
        for name in (
            "DATABASE_URL",
            "REDIS_URL",
            "EMAIL_URL",
            "SITE_URL",
            "PYTEST_CURRENT_TEST",
            "PGAPPNAME",
        ):
            env.pop(name, None)
        env.update(
            DJANGO_DEBUG="1",
            DJANGO_TESTING="0",
            DJANGO_LOG_LEVEL="INFO",
            DJANGO_LOG_JSON="0",
            DATABASE_URL=f"{PG}/{DB_NAME}",
            DATABASE_CONN_MAX_AGE="60",
            REDIS_URL=self.redis.url,
            CACHE_KEY_PREFIX="drill",
            CELERY_TASK_ALWAYS_EAGER="0",
            STRIPE_USE_LOCAL="1",
            STRIPE_LOCAL_ADDR=f"127.0.0.1:{self.standin_port}",
            SITE_URL=self.web,
            EMAIL_URL=f"smtp://127.0.0.1:{self.mailbox.port}",
            OUTBOX_RETRY_BASE_SECONDS="5",
            OUTBOX_RETRY_MAX_SECONDS="20",
            OUTBOX_SWEEP_GRACE_SECONDS="30",
        )
        return env

    def production_env(self) -> dict[str, str]:
        """What gunicorn, the worker and beat run with: production settings (debug off), pointed
        at the stand-in the way the production rehearsal does it (a test-format key and
        STRIPE_API_HOST on loopback, no STRIPE_USE_LOCAL). Plain HTTP on loopback: no TLS
        redirect; the simulated users send the session and CSRF cookies as a browser behind
        TLS would."""
        env = self.env()
        del env["STRIPE_USE_LOCAL"], env["STRIPE_LOCAL_ADDR"]
        return production_env(
            env,
            secret_key=self.secret_key,
            database_url=env["DATABASE_URL"],
            redis_url=env["REDIS_URL"],
            email_url=env["EMAIL_URL"],
            stripe_api_host=self.standin,
            stripe_key="sk_test_faultdrill" + "0" * 24,
            DJANGO_SECURE_SSL_REDIRECT="0",
        )

    def manage(self, *args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def database_create(self) -> None:
        """The drill's database, a copy of the template migrated to the current migration set
        (built by ``migrate`` on the first run after a migration changed)."""
        admin = f"{PG}/postgres"
        database_drop(admin, "relay_fault_drill_template")  # the cache before templates had a key

        def migrate(name: str) -> None:
            log(f"== building the template database {name} (migrate; minutes on a busy machine)")
            self.manage("migrate", "--noinput", "-v", "0", env={**self.env(), "DATABASE_URL": f"{PG}/{name}"})

        template, _built = template_ensure(admin, TEMPLATE_PREFIX, migrate)
        database_create(admin, DB_NAME, template)

    def start(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        for old in LOGS.glob("*"):
            if old.is_file():
                old.unlink()
        log(f"== own redis-server on 127.0.0.1:{self.redis.port}, SMTP on 127.0.0.1:{self.mailbox.port}")
        self.redis.start()
        self.mailbox.start()
        log(f"== database {DB_NAME}")
        self.database_create()
        env = self.env()
        log(f"== stand-in on {self.standin}, catalogue, webhook endpoint, users")
        self.standin_process = self.standin_start()
        self.manage("billing_setup_local", "--base-url", self.web)
        self.users_create()
        self.static_collect()
        env = self.production_env()
        web_env = {**env, "PGAPPNAME": WEB_APP_NAME}
        log(f"== gunicorn (gunicorn.conf.py) on {self.web}, Celery worker and beat")
        self.processes.start("web", gunicorn_command(self.web_port), web_env)
        worker_env = {**env, "PGAPPNAME": "relay-drill-worker"}
        self.processes.start("worker", worker_command(f"drill-{os.getpid()}"), worker_env)
        beat_env = {**env, "PGAPPNAME": "relay-drill-beat"}
        self.processes.start("beat", beat_command(LOGS / "beat-schedule"), beat_env)
        wait_http(f"{self.web}/healthz", "gunicorn")

    def static_collect(self) -> None:
        """The production static storage (whitenoise's manifest) needs collected files: collected
        again only when a file under static/ is newer than the manifest."""
        manifest = ROOT / "staticfiles" / "staticfiles.json"
        newest = max((p.stat().st_mtime for p in (ROOT / "static").rglob("*") if p.is_file()), default=0)
        if not manifest.exists() or manifest.stat().st_mtime < newest:
            log("== collectstatic (static files changed)")
            self.manage("collectstatic", "--noinput", "-v", "0", env=self.production_env())

    def standin_start(self) -> subprocess.Popen[bytes]:
        process = standin_start(
            self.standin_port, self.state, webhooks=True, env=self.env(), log=LOGS / "stand-in.log"
        )
        self.processes.adopt("stand-in", process)
        return process

    def users_create(self) -> None:
        script = (
            "import json, sys\n"
            "from accounts.tests.factories import UserFactory\n"
            "from djstripe.models import Price\n"
            f"handles = [f'drill{{i}}' for i in range({self.options.users})]\n"
            "for h in handles:\n"
            "    user = UserFactory(handle=h, email=f'{h}@example.com')\n"
            f"    user.set_password({PASSWORD!r})\n"
            "    user.save(update_fields=['password'])\n"
            f"print(json.dumps({{'handles': handles, 'price': Price.objects.get(lookup_key={TEAM!r}).id}}))\n"
        )
        out = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "shell", "-c", script],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        self.handles, self.price_id = data["handles"], data["price"]

    # --- faults -----------------------------------------------------------------------------------

    def db_terminate(self, label: str) -> None:
        """Terminates gunicorn's PostgreSQL backends of the drill database: three times, 0.3 s
        apart, so queries in flight are hit and not only idle connections."""
        total = 0
        for _ in range(3):
            at = self.now()
            rows = sql(
                f"{PG}/postgres",
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                (DB_NAME, WEB_APP_NAME),
            )
            self.kills.append(Kill(at, "database", f"{len(rows)} backends"))
            total += len(rows)
            time.sleep(0.3)
        self.notes.append(f"{label}: pg_terminate_backend of the web's connections, {total} backends")

    def redis_outage(self, seconds: float) -> None:
        start = self.now()
        self.redis.stop()
        time.sleep(seconds)
        self.redis.start()
        self.notes.append(f"Redis stopped at {start:.1f} s, started again at {self.now():.1f} s")

    def standin_kill(self) -> None:
        during = self.victim_posting.wait(timeout=25)
        if during:
            time.sleep(random.uniform(0.0, 0.03))  # noqa: S311 - not crypto: somewhere inside the POST
        process = self.standin_process
        assert process is not None
        at = self.now()
        self.standin_down.set()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        kill = Kill(at, "stand-in", "SIGKILL", until=float("inf"))
        self.kills.append(kill)
        self.standin_killed.set()
        time.sleep(3)
        self.standin_process = self.standin_start()
        kill.until = self.now()
        self.standin_down.clear()
        self.notes.append(
            f"stand-in SIGKILLed at {at:.1f} s "
            + ("while a payer's card form was being submitted" if during else "(no checkout was in flight)")
            + f", back at {self.now():.1f} s"
        )

    def timeline(self) -> None:
        o = self.options
        schedule: list[tuple[float, Any]] = [
            (6, lambda: self.db_terminate("database kill 1")),
            (
                10,
                lambda: threading.Thread(
                    target=self.redis_outage, args=(o.redis_outage,), daemon=True
                ).start(),
            ),
            (18, lambda: self.db_terminate("database kill 2 (Redis down)")),
            (30, lambda: self.db_terminate("database kill 3 (Redis down)")),
            (12 + o.redis_outage, lambda: threading.Thread(target=self.standin_kill, daemon=True).start()),
            (20 + o.redis_outage, lambda: self.db_terminate("database kill 4")),
        ]
        for at, action in schedule:
            while self.now() < at and not self.stop_traffic.is_set():
                time.sleep(0.05)
            if self.stop_traffic.is_set():
                return
            action()

    # --- the run ----------------------------------------------------------------------------------

    def run(self) -> int:
        o = self.options
        self.start()
        users = [SimulatedUser(self, handle, index) for index, handle in enumerate(self.handles)]
        self.t0 = time.monotonic()
        log(f"== traffic: {len(users)} users ({o.payers} pay) for {o.seconds} s, with the faults")
        threads = [threading.Thread(target=u.run, daemon=True) for u in users]
        for thread in threads:
            thread.start()
        faults = threading.Thread(target=self.timeline, daemon=True)
        faults.start()
        while self.now() < o.seconds and any(t.is_alive() for t in threads):
            time.sleep(0.2)
        self.stop_traffic.set()
        faults.join(timeout=30)
        settle_until = time.monotonic() + o.settle
        for thread in threads:
            thread.join(timeout=max(1.0, settle_until - time.monotonic()))
        log(
            f"== traffic stopped at {self.now():.1f} s; waiting for the worker, webhooks and e-mails to settle"
        )
        self.settle(settle_until)
        self.stop_polling.set()
        return self.report()

    def settle(self, until: float) -> None:
        """Waits (bounded) until nothing is left in flight: webhooks delivered, events processed,
        e-mails sent, the queue empty."""
        while time.monotonic() < until:
            pending = self.pending()
            if not any(pending.values()):
                return
            time.sleep(1)
        self.notes.append(f"still in flight after settling: {self.pending()}")

    def pending(self) -> dict[str, int]:
        try:
            deliveries = len(standin_call(self.standin, "GET", "/_local/deliveries")["data"])
        except OSError:
            deliveries = -1
        rows = self.sql(
            "SELECT (SELECT count(*) FROM outbox_outboundemail WHERE status <> 'sent'),"
            " (SELECT count(*) FROM billing_webhookinbox WHERE state <> 'done')"
        )[0]
        return {"webhook deliveries": deliveries, "e-mails unsent": rows[0], "events unprocessed": rows[1]}

    def close(self) -> None:
        self.stop_traffic.set()
        if self.options.keep_database:
            log(f"database {DB_NAME} kept (--keep-database)")
        self.stop_polling.set()
        self.processes.stop_all()
        self.redis.stop()
        self.mailbox.stop()
        with contextlib.suppress(Exception):
            if not self.options.keep_database:
                database_drop(f"{PG}/postgres", DB_NAME)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--payers", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=75, help="seconds of traffic")
    parser.add_argument("--redis-outage", type=int, default=30, help="seconds Redis is down")
    parser.add_argument("--settle", type=int, default=45, help="most seconds to wait for things in flight")
    parser.add_argument("--keep-database", action="store_true", help="keep relay_fault_drill to look into")
    options = parser.parse_args()
    if options.payers > options.users:
        parser.error("--payers cannot exceed --users")
    stop_on_signals()  # SIGTERM unwinds to the finally below: everything stopped by pid
    drill = Drill(options)
    try:
        return drill.run()
    except KeyboardInterrupt:
        log("interrupted: stopping what the drill started")
        return 2
    except (ShapeError, subprocess.CalledProcessError) as exc:
        log(f"the drill could not run: {exc}")
        return 2
    finally:
        drill.close()


if __name__ == "__main__":
    sys.exit(main())
