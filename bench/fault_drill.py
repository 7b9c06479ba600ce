"""Fault drill: the product in production shape while Redis, the Stripe stand-in and PostgreSQL
connections fail under simulated users (issue 14, "How it is checked").

Started by ``scripts/fault-drill``. What runs, all on 127.0.0.1 and all stopped by pid at the end
(also on an error or Ctrl-C):

- gunicorn with the production ``gunicorn.conf.py`` (its workers), a Celery worker and Celery
  beat, talking to
- PostgreSQL: a database of the drill's own, ``relay_fault_drill``, created at the start (copied
  from the template ``relay_fault_drill_template``, which the first run builds with ``migrate``
  and later runs only bring up to date) and dropped at the end;
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
same thing again. Meanwhile, on a fixed timeline: PostgreSQL backends of the web are terminated
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
import collections
import contextlib
import email
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from config.tests.processes import RedisProcess, free_port, standin_call, standin_start  # noqa: E402

BIN = Path(sys.executable).parent
PG = os.environ.get("FAULT_DRILL_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "relay_fault_drill"
TEMPLATE = "relay_fault_drill_template"
WEB_APP_NAME = "relay-drill-web"  # gunicorn's PostgreSQL application_name: what the drill kills
PASSWORD = secrets.token_urlsafe(18)  # the simulated users' (one run only)
TEAM = "team_monthly"  # no free trial: every checkout is a charge
TIMEOUT = 20.0  # seconds a simulated user waits for one answer
KILL_SLACK = 0.25  # seconds around a kill within which a failure counts as in flight at it
LOGS = ROOT / "var" / "fault-drill"


def log(message: str) -> None:
    print(message, flush=True)


# --- Processes ----------------------------------------------------------------------------------------


class Processes:
    """Everything the drill started; ``stop_all`` stops each by its pid (then its own session)."""

    def __init__(self) -> None:
        self.started: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter's tools, fixed arguments
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            out.close()
        self.started.append((name, process))
        return process

    def adopt(self, name: str, process: subprocess.Popen) -> None:
        self.started.append((name, process))

    @staticmethod
    def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 25) -> None:
        if process.poll() is None:
            os.kill(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own session: only what it started
            process.wait(timeout=10)

    def stop_all(self) -> None:
        for _name, process in reversed(self.started):
            with contextlib.suppress(Exception):
                self.stop(process)
        self.started.clear()


def _pg(sql: str, params: tuple[Any, ...] = (), *, db: str = "postgres") -> list[tuple[Any, ...]]:
    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        cursor = conn.execute(sql.encode(), params)  # the drill's own literal SQL
        return cursor.fetchall() if cursor.description else []


def _database_exists(name: str) -> bool:
    return bool(_pg("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))


def _wait_http(url: str, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=3)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise DrillError(f"{what} did not answer within {seconds:.0f} s")


class DrillError(Exception):
    """The drill itself could not run (not a finding about the product)."""


# --- SMTP -----------------------------------------------------------------------------------------------


class Mailbox:
    """An SMTP server on loopback that keeps (recipients, subject, Message-ID) of every e-mail."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[tuple[str, ...], str, str]] = []
        self.lock = threading.Lock()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                parsed = email.message_from_bytes(envelope.original_content or envelope.content)
                with mailbox.lock:
                    mailbox.messages.append(
                        (
                            tuple(sorted(envelope.rcpt_tos)),
                            str(parsed.get("Subject", "")),
                            str(parsed.get("Message-ID", "")),
                        )
                    )
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()


# --- What users saw ---------------------------------------------------------------------------------


@dataclass
class Record:
    user: str
    action: str
    method: str
    target: str  # "web" or "stripe"
    path: str
    started: float
    ended: float
    status: int | None = None
    error: str = ""
    request_id: str = ""
    location: str = ""


@dataclass
class Kill:
    at: float
    what: str
    detail: str = ""
    until: float = 0.0  # when what was killed answered again (the stand-in)


@dataclass
class Outcomes:
    """What users did, to compare with the database afterwards."""

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> {user, acknowledged, gave_up}
    follows: list[tuple[str, str, bool]] = field(default_factory=list)  # (follower, followee, acknowledged)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> {paid, ready, session}


class Drill:
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
        self.processes = Processes()
        self.redis = RedisProcess()
        self.mailbox = Mailbox()
        self.web_port, self.standin_port = free_port(), free_port()
        self.web = f"http://127.0.0.1:{self.web_port}"
        self.standin = f"http://127.0.0.1:{self.standin_port}"
        self.state = LOGS / "stripe_local.json"
        self.standin_process: subprocess.Popen | None = None
        self.handles: list[str] = []
        self.price_id = ""
        self.secret_key = secrets.token_urlsafe(60)

    def now(self) -> float:
        return time.monotonic() - self.t0

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
        env.update(
            DJANGO_DEBUG="0",
            DJANGO_SECRET_KEY=self.secret_key,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="0",
            PRODUCTION_REHEARSAL="1",
            STRIPE_TEST_SECRET_KEY="sk_test_faultdrill" + "0" * 24,
            STRIPE_API_HOST=self.standin,
        )
        return env

    def manage(self, *args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def database_create(self) -> None:
        _pg(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not _database_exists(TEMPLATE):
            log(
                f"== first run: building the template database {TEMPLATE} (migrate; minutes on a busy machine)"
            )
            _pg(f'CREATE DATABASE "{TEMPLATE}"')
            try:
                self.manage(
                    "migrate", "--noinput", "-v", "0", env={**self.env(), "DATABASE_URL": f"{PG}/{TEMPLATE}"}
                )
            except BaseException:
                _pg(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
                raise
        _pg(f'CREATE DATABASE "{DB_NAME}" TEMPLATE "{TEMPLATE}"')
        self.manage("migrate", "--noinput", "-v", "0")  # brings the copy up to date (quick when it is)

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
        self.processes.spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.web_port}",
            ],
            web_env,
        )
        self.processes.spawn(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "-n",
                f"drill-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            {**env, "PGAPPNAME": "relay-drill-worker"},
        )
        self.processes.spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(LOGS / "beat-schedule"),
            ],
            {**env, "PGAPPNAME": "relay-drill-beat"},
        )
        _wait_http(f"{self.web}/healthz", "gunicorn")

    def static_collect(self) -> None:
        """The production static storage (whitenoise's manifest) needs collected files: collected
        again only when a file under static/ is newer than the manifest."""
        manifest = ROOT / "staticfiles" / "staticfiles.json"
        newest = max((p.stat().st_mtime for p in (ROOT / "static").rglob("*") if p.is_file()), default=0)
        if not manifest.exists() or manifest.stat().st_mtime < newest:
            log("== collectstatic (static files changed)")
            self.manage("collectstatic", "--noinput", "-v", "0", env=self.production_env())

    def standin_start(self) -> subprocess.Popen:
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
            rows = _pg(
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
        rows = _pg(
            "SELECT (SELECT count(*) FROM outbox_outboundemail WHERE status <> 'sent'),"
            " (SELECT count(*) FROM billing_webhookinbox WHERE state <> 'done')",
            db=DB_NAME,
        )[0]
        return {"webhook deliveries": deliveries, "e-mails unsent": rows[0], "events unprocessed": rows[1]}

    # --- the verdict ------------------------------------------------------------------------------

    def in_flight_at_kill(self, rec: Record) -> Kill | None:
        for kill in self.kills:
            if rec.started - KILL_SLACK <= kill.at <= rec.ended + KILL_SLACK:
                if kill.what == "database" and rec.target == "web":
                    return kill
                if kill.what == "stand-in":
                    return kill
            if (
                kill.what == "stand-in"
                and rec.target == "stripe"
                and kill.at <= rec.ended
                and rec.started <= kill.until
            ):
                return kill  # the hosted page while the killed stand-in was starting again
        return None

    def report(self) -> int:
        (LOGS / "requests.json").write_text(json.dumps([r.__dict__ for r in self.records], indent=0))
        errors: collections.Counter[str] = collections.Counter()
        excused: collections.Counter[str] = collections.Counter()
        for rec in self.records:
            problem = self.problem(rec)
            if not problem:
                continue
            kill = self.in_flight_at_kill(rec) if (rec.status == 503 or rec.error) else None
            key = f"{problem}: {rec.method} {rec.target} {_shape(rec.path)}"
            if kill is not None:
                when = "while the stand-in was down" if kill.what == "stand-in" else "at the database kill"
                excused[f"{key} ({when})"] += 1
            else:
                errors[key] += 1
        lost, doubled = self.check_effects()
        web = [r for r in self.records if r.target == "web"]
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        lines = [
            "",
            "=" * 78,
            f"Fault drill: {len(self.handles)} users ({self.options.payers} paying), {self.options.seconds} s "
            f"of traffic, load average {load} ({os.cpu_count()} cores)",
            "Faults:",
            *[f"  - {n}" for n in self.notes],
            f"Requests: {len(self.records)} ({len(web)} to the web, {len(self.records) - len(web)} to the "
            "stand-in's hosted pages)",
            f"Errors seen by users: {sum(errors.values())}",
            *[f"  - {n} x {k}" for k, n in sorted(errors.items())],
            "Requests in flight at the instant of a kill, or on the stand-in's hosted page while it was down"
            f" after its kill (not counted above): {sum(excused.values())}",
            *[f"  - {n} x {k}" for k, n in sorted(excused.items())],
            f"Requests lost: {sum(lost.values())}",
            *[f"  - {k}: {n}" for k, n in lost.items()],
            f"Side effects doubled: {sum(doubled.values())}",
            *[f"  - {k}: {n}" for k, n in doubled.items()],
        ]
        failed = sum(errors.values()) + sum(lost.values()) + sum(doubled.values())
        lines.append(
            "RESULT: " + ("PASS" if not failed else f"FAIL ({failed})") + f"  (logs of every process: {LOGS})"
        )
        log("\n".join(lines))
        return 1 if failed else 0

    @staticmethod
    def problem(rec: Record) -> str:
        if rec.error:
            return f"connection failure ({rec.error})"
        assert rec.status is not None
        if rec.status >= 500:
            return f"HTTP {rec.status}"
        signed_out = rec.status in (301, 302, 303) and "/accounts/login/" in rec.location
        if rec.target == "web" and signed_out and rec.action != "login":
            return "signed out"
        if rec.status >= 400 and rec.status != 404:
            return f"HTTP {rec.status}"
        return ""

    def check_effects(self) -> tuple[dict[str, int], dict[str, int]]:
        lost: dict[str, int] = {}
        doubled: dict[str, int] = {}
        q = lambda sql, *params: _pg(sql, params, db=DB_NAME)  # noqa: E731

        # Posts: one row per submit (the same text resubmitted after a 503 is one submit).
        counts = {
            token: q("SELECT count(*) FROM social_post WHERE text LIKE %s", f"%{token}%")[0][0]
            for token in self.outcomes.posts
        }
        lost["posts acknowledged (201) but not stored"] = sum(
            1 for t, o in self.outcomes.posts.items() if o["acknowledged"] and counts[t] == 0
        )
        lost["posts never accepted after retrying"] = sum(
            1 for t, o in self.outcomes.posts.items() if o["gave_up"] and counts[t] == 0
        )
        doubled["posts stored twice for one submit"] = sum(1 for c in counts.values() if c > 1)

        # Follows and what they cause.
        users = dict(q("SELECT handle, id FROM accounts_user WHERE handle LIKE 'drill%%'"))
        stored = {tuple(r) for r in q("SELECT follower_id, followee_id FROM social_follow")}
        lost["follows acknowledged but not stored"] = sum(
            1 for a, b, ok in self.outcomes.follows if ok and (users[a], users[b]) not in stored
        )
        doubled["follow notifications twice"] = q(
            "SELECT count(*) FROM (SELECT 1 FROM social_notification WHERE kind = 'follow' "
            "GROUP BY recipient_id, actor_id HAVING count(*) > 1) d"
        )[0][0]
        doubled["feed entries twice"] = q(
            "SELECT count(*) FROM (SELECT 1 FROM social_timelineentry GROUP BY owner_id, post_id, reposter_id "
            "HAVING count(*) > 1) d"
        )[0][0]

        # Fan-out: each stored post is in the home feed of everyone who followed its author before.
        lost["posts missing from a follower's home feed"] = q(
            "SELECT count(*) FROM social_post p JOIN social_follow f ON f.followee_id = p.author_id "
            "AND f.created_at < p.created_at LEFT JOIN social_timelineentry t ON t.owner_id = f.follower_id "
            "AND t.post_id = p.id AND t.reposter_id IS NULL WHERE t.id IS NULL AND p.text LIKE 'Drill post %%'"
        )[0][0]

        # Payments: in Stripe (the stand-in) and in the app.
        lost_payments = doubled_subs = doubled_charges = 0
        for handle, pay in self.outcomes.payments.items():
            customer = q(
                "SELECT c.id FROM djstripe_customer c WHERE c.subscriber_id = %s AND c.date_purged IS NULL "
                "ORDER BY c.created DESC LIMIT 1",
                users[handle],
            )
            if not customer:
                lost_payments += int(bool(pay["paid"]))
                continue
            cus = customer[0][0]
            subs = standin_call(self.standin, "GET", "/v1/subscriptions", {"customer": cus, "status": "all"})
            live = [s for s in subs["data"] if s["status"] in ("active", "trialing", "past_due")]
            doubled_subs += int(len(live) > 1)
            charges = standin_call(self.standin, "GET", "/v1/charges", {"customer": cus})["data"]
            kept = [c for c in charges if c["status"] == "succeeded" and not c.get("refunded")]
            doubled_charges += int(len(kept) > 1)
            app_live = q(
                "SELECT count(*) FROM djstripe_subscription WHERE customer_id = %s "
                "AND stripe_data->>'status' IN ('active', 'trialing', 'past_due')",
                cus,
            )[0][0]
            if live and app_live == 0:
                lost_payments += 1
            if pay["paid"] and not live:
                lost_payments += 1
        lost["payments that never reached the app (no live subscription)"] = lost_payments
        doubled["users with two live subscriptions"] = doubled_subs
        doubled["users charged twice (charges kept)"] = doubled_charges
        lost["paying users whose success page never said ready"] = sum(
            1 for p in self.outcomes.payments.values() if p["paid"] and not p["ready"]
        )

        # E-mails: every promised one sent once.
        pending = self.pending()
        lost["e-mails still unsent in the outbox"] = max(0, pending["e-mails unsent"])
        lost["webhook deliveries not delivered"] = max(0, pending["webhook deliveries"])
        lost["webhook events not processed within the settle window"] = max(0, pending["events unprocessed"])
        receipts = q("SELECT count(*) FROM billing_billingnotification WHERE kind = 'payment_received'")[0][0]
        paid = sum(1 for p in self.outcomes.payments.values() if p["paid"])
        lost["receipts missing (paid checkouts without a receipt)"] = max(0, paid - receipts)
        with self.mailbox.lock:
            messages = list(self.mailbox.messages)
        by_kind = collections.Counter((to, subject) for to, subject, _ in messages)
        by_id = collections.Counter(mid for _, _, mid in messages if mid)
        doubled["e-mails of one kind twice to one person"] = sum(1 for n in by_kind.values() if n > 1)
        doubled["e-mails sent twice (same Message-ID)"] = sum(1 for n in by_id.values() if n > 1)
        sent_rows = q("SELECT count(*) FROM outbox_outboundemail WHERE status = 'sent'")[0][0]
        lost["e-mails marked sent that never reached SMTP"] = max(0, sent_rows - len(by_id))

        # The access log: one line per request that reached the web.
        logged = set(re.findall(r"relay\.access \[([A-Za-z0-9._-]+)\]", (LOGS / "web.log").read_text()))
        lost["requests answered without an access-log line"] = sum(
            1
            for r in self.records
            if r.target == "web" and r.status is not None and r.request_id not in logged
        )
        self.notes.append(f"e-mails received by SMTP: {len(messages)}; outbox rows sent: {sent_rows}")
        inline_failures = sum(
            (LOGS / f"{name}.log").read_text().count("failed inline") for name in ("web", "worker", "beat")
        )
        self.notes.append(f"tasks that failed when run inline (broker down): {inline_failures}")
        return lost, doubled

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
                _pg(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _shape(path: str) -> str:
    path = urllib.parse.urlsplit(path).path
    path = re.sub(r"/@[\w.-]+", "/@<handle>", path)
    path = re.sub(r"/users/[\w.-]+/", "/users/<handle>/", path)
    return re.sub(r"/c/pay/[^/]+", "/c/pay/<session>", path)


# --- A simulated user -----------------------------------------------------------------------------------


class SimulatedUser:
    def __init__(self, drill: Drill, handle: str, index: int) -> None:
        self.drill = drill
        self.handle = handle
        self.index = index
        self.http = requests.Session()
        self.rng = random.Random(index)  # noqa: S311 - not crypto: a reproducible mix of actions
        self.posts = 0
        payers = drill.options.payers
        outage = drill.options.redis_outage
        # Payers start checkout at different moments: before, during and after the Redis outage,
        # one (the victim) just before the stand-in kill.
        starts = [3, 14, 24, 9 + outage, 17 + outage, 4 + outage, 26 + outage, 35]
        self.pay_at: float | None = starts[index % len(starts)] if index < payers else None
        self.victim = index == 3 and payers > 3

    # -- HTTP with the record of what the user saw

    def call(
        self, action: str, method: str, url: str, *, target: str = "web", **kwargs: Any
    ) -> requests.Response | None:
        request_id = uuid.uuid4().hex
        headers = dict(kwargs.pop("headers", {}) or {})
        if target == "web":
            headers["X-Request-ID"] = request_id
            csrf = self.http.cookies.get("csrftoken")
            if csrf and method != "GET":
                headers["X-CSRFToken"] = csrf
        rec = Record(self.handle, action, method, target, url, self.drill.now(), 0.0, request_id=request_id)
        try:
            response = self.http.request(
                method, url, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            rec.ended, rec.error = self.drill.now(), type(exc).__name__
            self.drill.record(rec)
            return None
        for cookie in self.http.cookies:
            cookie.secure = False  # sent back over loopback HTTP as a browser sends them over TLS
        rec.ended, rec.status = self.drill.now(), response.status_code
        rec.location = response.headers.get("Location", "")
        self.drill.record(rec)
        return response

    def retry_wait(self, response: requests.Response | None) -> None:
        delay = 1.0
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            delay = float(response.headers["Retry-After"])
        time.sleep(delay)

    # -- actions

    def login(self) -> bool:
        web = self.drill.web
        for _ in range(10):
            page = self.call("login", "GET", f"{web}/accounts/login/")
            if page is not None and page.status_code == 200:
                response = self.call(
                    "login",
                    "POST",
                    f"{web}/accounts/login/",
                    data={
                        "login": f"{self.handle}@example.com",
                        "password": PASSWORD,
                        "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
                    },
                )
                if response is not None and response.status_code == 302:
                    return True
            self.retry_wait(page)
        return False

    def browse(self) -> None:
        web = self.drill.web
        choice = self.rng.random()
        if choice < 0.45:
            url = f"{web}/"
        elif choice < 0.7:
            url = f"{web}/explore/"
        else:
            url = f"{web}/@{self.rng.choice(self.drill.handles)}"
        response = self.call("browse", "GET", url)
        if response is None or response.status_code >= 500:
            self.retry_wait(response)
            self.call("browse", "GET", url)  # a person reloads once

    def post(self) -> None:
        token = f"dr{self.index}x{self.posts}q{uuid.uuid4().hex[:8]}"
        self.posts += 1
        outcome = {"user": self.handle, "acknowledged": False, "gave_up": False}
        self.drill.outcomes.posts[token] = outcome
        deadline = time.monotonic() + 25
        while True:
            response = self.call(
                "post", "POST", f"{self.drill.web}/api/v1/posts/", json={"text": f"Drill post {token}"}
            )
            if response is not None and response.status_code == 201:
                outcome["acknowledged"] = True
                return
            if response is not None and response.status_code < 500 and response.status_code != 429:
                outcome["gave_up"] = True  # refused (4xx): counted as an error seen
                return
            if time.monotonic() > deadline:
                outcome["gave_up"] = True
                return
            self.retry_wait(response)

    def follow(self) -> None:
        others = [h for h in self.drill.handles if h != self.handle]
        target = self.rng.choice(others)
        deadline = time.monotonic() + 25
        while True:
            response = self.call("follow", "POST", f"{self.drill.web}/api/v1/users/{target}/follow/")
            if response is not None and response.status_code < 300:
                self.drill.outcomes.follows.append((self.handle, target, True))
                return
            if (response is not None and response.status_code < 500) or time.monotonic() > deadline:
                self.drill.outcomes.follows.append((self.handle, target, False))
                return
            self.retry_wait(response)

    def pay(self) -> None:
        """Checkout as a person does it: the plan, the hosted page, the card, the success page."""
        outcome: dict[str, Any] = {"paid": False, "ready": False, "session": ""}
        self.drill.outcomes.payments[self.handle] = outcome
        deadline = time.monotonic() + 60
        hosted = self.checkout_open(deadline)
        if not hosted:
            return
        outcome["session"] = hosted.rsplit("/", 1)[-1]
        success = self.checkout_pay(hosted, outcome, deadline)
        if success:
            outcome["ready"] = self.success_wait(success)

    def checkout_open(self, deadline: float) -> str:
        drill = self.drill
        while time.monotonic() < deadline:
            self.call("pay", "GET", f"{drill.web}/billing/pricing/")
            response = self.call(
                "pay",
                "POST",
                f"{drill.web}/billing/subscribe/",
                data={
                    "price_id": drill.price_id,
                    "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
                },
            )
            location = response.headers.get("Location", "") if response is not None else ""
            if response is not None and response.status_code == 303 and location.startswith(drill.standin):
                return location
            self.retry_wait(response)  # e.g. "Stripe is unreachable, try again" on the pricing page
        return ""

    def checkout_pay(self, hosted: str, outcome: dict[str, Any], deadline: float) -> str:
        drill = self.drill
        form = {
            "email": f"{self.handle}@example.com",
            "name": self.handle,
            "card_number": "4242424242424242",
            "exp": "12 / 34",
            "cvc": "123",
        }
        while time.monotonic() < deadline:
            page = self.call("pay", "GET", hosted, target="stripe")
            if page is None or page.status_code >= 500:
                time.sleep(1)
                continue
            if "checkout session is complete" in page.text:
                outcome["paid"] = True
                found = re.search(r"href='([^']+)'>Continue", page.text)
                return found.group(1).replace("&amp;", "&") if found else ""
            if self.victim and not drill.standin_killed.is_set():
                drill.victim_posting.set()  # the stand-in is killed while this POST is in flight
            response = self.call("pay", "POST", hosted, target="stripe", data=form)
            if response is not None and response.status_code == 303:
                outcome["paid"] = True
                return response.headers["Location"]
            time.sleep(1)  # a person waits, reloads the payment page and sees where it stands
        return ""

    def success_wait(self, success: str) -> bool:
        """The success page polls (with htmx in a browser); the user waits on it."""
        drill = self.drill
        session_id = urllib.parse.parse_qs(urllib.parse.urlsplit(success).query).get("session_id", [""])[0]
        attempt = 0
        poll_until = time.monotonic() + drill.options.settle + 30
        while time.monotonic() < poll_until and not drill.stop_polling.is_set():
            query = urllib.parse.urlencode({"session_id": session_id, "attempt": attempt})
            response = self.call("pay", "GET", f"{drill.web}/billing/success/?{query}")
            if response is not None and 'data-state="ready"' in response.text:
                return True
            attempt += 1
            found = re.search(r'data-poll-delay="(\d+)"', response.text if response is not None else "")
            time.sleep(min(5.0, float(found.group(1)) if found else 2.0))
        return False

    def run(self) -> None:
        if not self.login():
            self.drill.notes.append(f"{self.handle} could not sign in")
            return
        while not self.drill.stop_traffic.is_set():
            if self.pay_at is not None and self.drill.now() >= self.pay_at:
                self.pay_at = None
                self.pay()
                continue
            choice = self.rng.random()
            if choice < 0.6:
                self.browse()
            elif choice < 0.85:
                self.post()
            else:
                self.follow()
            time.sleep(self.rng.uniform(0.3, 1.2))


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds to the finally below: everything stopped by pid


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
    signal.signal(signal.SIGTERM, _interrupted)
    drill = Drill(options)
    try:
        return drill.run()
    except KeyboardInterrupt:
        log("interrupted: stopping what the drill started")
        return 2
    except (DrillError, subprocess.CalledProcessError) as exc:
        log(f"the drill could not run: {exc}")
        return 2
    finally:
        drill.close()


if __name__ == "__main__":
    sys.exit(main())
