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
Talks only to 127.0.0.1.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay .venv/bin/python scripts/rehearse_production.py

``DATABASE_URL`` names the PostgreSQL server (its database is not touched);
``REHEARSAL_DATABASE`` (default ``relay_rehearsal``) the database created and dropped;
``REHEARSAL_TIMEOUT`` (default 360) the seconds the whole run may take.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import email
import email.policy
import hashlib
import html
import html.parser
import http.client
import http.server
import importlib.metadata
import ipaddress
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
STRIPE_API_VERSION = "2025-02-24.acacia"  # config/settings.py
T = TypeVar("T")
SERVICES = (("web", "railway.json"), ("worker", "railway.worker.json"), ("beat", "railway.beat.json"))
# The Team plan as an operator types it into Stripe's dashboard (docs/billing.md, "Plans").
TEAM_METADATA = {
    "metadata[plan]": "team",
    "metadata[rank]": "20",
    "metadata[max_post_length]": "5000",
    "metadata[max_images_per_post]": "20",
    "metadata[posts_per_day]": "5000",
    "metadata[max_api_keys]": "25",
    "metadata[api_requests_per_minute]": "1200",
    "metadata[features]": "Everything in Pro;Highest API limits",
}


class RehearsalError(Exception):
    """A step's check failed: the message says what a user or operator would have seen."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- The run's clock -----------------------------------------------------------------------------


class Clock:
    def __init__(self, budget: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + budget

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


# --- Processes this run starts and stops --------------------------------------------------------


class Processes:
    """Every child of this run, each in its own session; stopped by pid (SIGTERM to the process,
    SIGKILL to its session if it has not exited after a grace period: only what it started)."""

    def __init__(self, logs: Path, clock: Clock) -> None:
        self.logs = logs
        self.clock = clock
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - the project's own commands, fixed arguments
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children[name] = process
        return process

    def run(self, name: str, args: list[str], env: dict[str, str], timeout: float) -> str:
        """Runs a one-off command to its end; returns its output, raises if it failed."""
        process = self.start(name, args, env)
        try:
            process.wait(timeout=max(1.0, min(timeout, self.clock.remaining())))
        except subprocess.TimeoutExpired as exc:
            raise RehearsalError(f"{name} did not finish in {timeout:.0f} s") from exc
        finally:
            self.stop(name)
        output = self.log_path(name).read_text(errors="replace")
        if process.returncode != 0:
            raise RehearsalError(f"{name} exited {process.returncode}:\n{_tail(output)}")
        return output

    def alive(self, name: str) -> bool:
        process = self.children.get(name)
        return process is not None and process.poll() is None

    def check_alive(self, *names: str) -> None:
        for name in names:
            process = self.children[name]
            if process.poll() is not None:
                raise RehearsalError(
                    f"{name} exited {process.returncode}:\n{_tail(self.log_path(name).read_text(errors='replace'))}"
                )

    def stop(self, name: str, grace: float = 25.0) -> None:
        process = self.children.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        # What the process itself started and left behind (its session), if anything.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> list[str]:
        """SIGTERM to every child at once (each finishes what it holds), then waits for each."""
        stopped = list(self.children)
        for process in self.children.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        for name in reversed(stopped):
            self.stop(name)
        return stopped


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join("      | " + line for line in text.strip().splitlines()[-lines:])


# --- The edge: TLS in front of gunicorn, like Railway's proxy --------------------------------------


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (the edge's; trusted by this run only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Relay production rehearsal")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "edge.crt", folder / "edge.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}


class _EdgeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int] = ("127.0.0.1", 0)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's signature
        pass

    def forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers = {k: v for k, v in headers.items() if k.lower() not in {"x-forwarded-proto"}}
        client = self.client_address[0]
        earlier = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{earlier}, {client}" if earlier else client
        headers["X-Forwarded-Proto"] = "https"
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except OSError:
            self.send_error(502)
            return
        finally:
            connection.close()
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = forward


class _EdgeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer (a poll given up on): nothing for the run to say


class Edge:
    def __init__(self, port: int, upstream_port: int, cert: Path, key: Path) -> None:
        handler = type("EdgeHandler", (_EdgeHandler,), {"upstream": ("127.0.0.1", upstream_port)})
        self.server = _EdgeServer(("127.0.0.1", port), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="edge", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# --- The SMTP server ---------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for rcpts, message in self.messages if address in rcpts]


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


# --- Pages: forms and a browser-like client ---------------------------------------------------------


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": {},
            }
            self.forms.append(self.current)
        elif self.current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button", "image", "file"}:
                self.current["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_for(page: str, action: str, **fields: str) -> dict[str, str]:
    """The hidden/prefilled fields of the page's form posting to ``action`` (and having ``fields``'
    values, when given, to choose among several)."""
    for form in forms_of(page):
        path = urllib.parse.urlsplit(html.unescape(form["action"])).path
        if urllib.parse.unquote(path) == urllib.parse.unquote(action) and all(
            form["fields"].get(k) == v for k, v in fields.items()
        ):
            return dict(form["fields"])
    found = [form["action"] for form in forms_of(page)]
    raise RehearsalError(f"no form posting to {action} {fields or ''} on the page (forms: {found})")


class Browser:
    """A person's browser, through the edge: cookies (Secure ones too: it is HTTPS), the CSRF
    token from the form, Origin and Referer on every POST, redirects not followed by itself."""

    def __init__(self, base: str, ca: Path) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE & co. would override the edge's CA
        self.ca = str(ca)
        self.session.headers["User-Agent"] = "Mozilla/5.0 (rehearsal) Relay"
        self.last_url = base + "/"

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = urllib.parse.urljoin(self.base, path_or_url)
        response = self.session.get(url, allow_redirects=False, timeout=30, verify=self.ca, **kwargs)
        self.last_url = url
        return response

    def post(self, path: str, data: dict[str, str], *, multipart: bool = False) -> requests.Response:
        url = urllib.parse.urljoin(self.base, path)
        headers = {"Origin": self.base, "Referer": self.last_url}
        if multipart:
            files = {k: (None, v) for k, v in data.items()}
            return self.session.post(
                url, files=files, headers=headers, allow_redirects=False, timeout=60, verify=self.ca
            )
        return self.session.post(
            url, data=data, headers=headers, allow_redirects=False, timeout=60, verify=self.ca
        )


def expect(response: requests.Response, status: int, what: str) -> requests.Response:
    if response.status_code != status:
        where = response.headers.get("Location", "")
        body = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:400]
        raise RehearsalError(
            f"{what}: {response.request.method} {response.url} answered {response.status_code}"
            f"{' -> ' + where if where else ''}, expected {status}. {body}"
        )
    return response


# --- The rehearsal ---------------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], T | None], clock: Clock, timeout: float, every: float = 0.5) -> T:
    """Polls ``check`` until it returns something other than None (or raises past the timeout)."""
    until = time.monotonic() + min(timeout, clock.remaining())
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result is not None:
                return result
        except (RehearsalError, requests.RequestException, OSError, psycopg.Error) as exc:
            last_error = exc
        if time.monotonic() >= until:
            detail = f" (last: {last_error})" if last_error else ""
            raise RehearsalError(f"{what}: not within {timeout:.0f} s{detail}")
        time.sleep(every)


class Rehearsal:
    def __init__(self, *, server_url: str, database: str, budget: float, keep: bool, fresh: bool) -> None:
        self.clock = Clock(budget)
        self.fresh = fresh
        self.template = ""
        self.folder = Path(tempfile.mkdtemp(prefix="relay-rehearsal-"))
        self.processes = Processes(self.folder, self.clock)
        self.keep = keep
        self.failed = False
        server = urllib.parse.urlsplit(server_url)
        self.admin_dsn = urllib.parse.urlunsplit(server._replace(path="/postgres"))
        self.database = database
        self.server = server
        self.database_url = self.url_of(database)
        self.database_created = False
        self.redis: subprocess.Popen[bytes] | None = None
        self.smtp: Controller | None = None
        self.edge: Edge | None = None
        self.mailbox = Mailbox()
        self.ports = {name: _free_port() for name in ("web", "edge", "redis", "smtp", "stripe")}
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
            elif not isinstance(exc, RehearsalError):
                reason = "".join(traceback.format_exception(exc)).strip()
            self.reported = exc
            self.results.append((name, False, took, reason))
            print(f"  FAIL {name} ({took:.1f} s)\n       {reason}", flush=True)
            raise
        took = time.monotonic() - started
        self.results.append((name, True, took, "; ".join(notes)))
        print(f"  ok   {name} ({took:.1f} s){': ' + '; '.join(notes) if notes else ''}", flush=True)

    # -- environments
    def base_env(self) -> dict[str, str]:
        """A clean process environment, as in the container (nothing of this shell's)."""
        return {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - a fallback HOME for the children
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def production_env(self) -> dict[str, str]:
        """The variables docs/railway.md has the operator set, with this run's addresses."""
        return {
            **self.base_env(),
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": self.site,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.ports['smtp']}",
            "DEFAULT_FROM_EMAIL": "Relay <noreply@rehearsal.relay.test>",
            "STRIPE_TEST_SECRET_KEY": self.stripe_key,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_rehearsal" + "0" * 24,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "TRUSTED_PROXY_COUNT": "1",
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "1",
            "PORT": str(self.ports["web"]),
            # What the rehearsal changes (module docstring).
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.ports['web']}",
            "STRIPE_API_HOST": self.stripe_base,
            "PRODUCTION_REHEARSAL": "1",
        }

    # -- config as code
    @staticmethod
    def railway(name: str) -> dict[str, Any]:
        deploy: dict[str, Any] = json.loads((ROOT / name).read_text())["deploy"]
        return deploy

    # -- services
    def start_services(self, notes: list[str]) -> None:
        template = self.template if not self.fresh else None
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'.encode())
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{self.database}"{clause}'.encode())
        self.database_created = True
        notes.append(f"database {self.database}" + (f" (from {template})" if template else " (empty)"))
        redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.redis = self.processes.start(
            "redis",
            [
                redis_server,
                "--port",
                str(self.ports["redis"]),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            self.base_env(),
        )
        import redis

        wait_for(
            "redis-server answers",
            lambda: redis.Redis(port=self.ports["redis"]).ping() or None,
            self.clock,
            15,
        )
        notes.append(f"redis-server :{self.ports['redis']} (pid {self.redis.pid})")
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=self.ports["smtp"])
        self.smtp.start()
        notes.append(f"SMTP :{self.ports['smtp']}")
        # The stand-in, as `manage.py stripe_local` runs it in development (its own process, its
        # own development settings: it is no part of the production settings). It trusts the edge's
        # certificate, as Stripe trusts a real one, to deliver webhooks to the https URL.
        stand_in_env = {**self.base_env(), "DJANGO_DEBUG": "1", "SSL_CERT_FILE": str(self.cert)}
        stand_in = self.processes.start(
            "stripe",
            [
                str(VENV_BIN / "python"),
                "manage.py",
                "stripe_local",
                "--addr",
                f"127.0.0.1:{self.ports['stripe']}",
                "--state",
                str(self.folder / "stripe_local.json"),
                "--reset",
            ],
            stand_in_env,
        )
        wait_for(
            "the Stripe stand-in answers",
            lambda: requests.get(f"{self.stripe_base}/_local/clock", timeout=2).ok or None,
            self.clock,
            60,
        )
        # Retries after a refused delivery come within seconds rather than Stripe's minutes.
        requests.post(f"{self.stripe_base}/_local/settings", data={"webhook_retry_base": "0.5"}, timeout=5)
        notes.append(f"Stripe stand-in :{self.ports['stripe']} (pid {stand_in.pid})")
        self.edge = Edge(self.ports["edge"], self.ports["web"], self.cert, self.key)
        notes.append(f"TLS edge :{self.ports['edge']} -> gunicorn :{self.ports['web']}")

    def migrations_key(self) -> str:
        """Names the migration set: the project's migration files and every installed package's
        version (third-party migrations come with them)."""
        digest = hashlib.sha256()
        for path in sorted(ROOT.glob("*/migrations/*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
        for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
            digest.update(dist.encode())
        return digest.hexdigest()[:12]

    def template_ensure(self, notes: list[str]) -> None:
        """A database migrated to the current migration set, kept between runs (``--fresh`` leaves
        it alone): the release's migrate then runs against it as on any deploy after the first, in
        seconds instead of minutes. Built under a temporary name, renamed when complete; templates
        of other migration sets are dropped."""
        prefix = f"{self.database}_tpl_"
        self.template = f"{prefix}{self.migrations_key()}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            names = [row[0] for row in conn.execute(b"SELECT datname FROM pg_database").fetchall()]
            for name in names:
                if name.startswith(prefix) and name != self.template:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        if self.template in names:
            notes.append(f"{self.template} (cached)")
            return
        building = f"{self.database}_building"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'.encode())
            conn.execute(f'CREATE DATABASE "{building}"'.encode())
        started = time.monotonic()
        env = {**self.production_env(), "DATABASE_URL": self.url_of(building)}
        # First run on a new migration set: migrations from empty take minutes on a busy 2-core box,
        # so this step has its own time (added to the run's budget).
        self.clock.deadline += 900
        try:
            self.processes.run(
                "migrate-template",
                [str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput"],
                env,
                timeout=900,
            )
        finally:
            self.clock.deadline -= 900 - (time.monotonic() - started)
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{self.template}"'.encode())
        notes.append(f"{self.template} built by migrate from empty in {time.monotonic() - started:.0f} s")

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
        self.cert, self.key = _certificate(self.folder)
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
            **self.base_env(),
            "DJANGO_SECRET_KEY": "build-only-" + secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "build",
            "STRIPE_TEST_SECRET_KEY": "sk_test_buildonly000000000000000000",
        }
        out = self.processes.run(
            "collectstatic",
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput"],
            build_env,
            timeout=180,
        )
        notes.append(out.strip().splitlines()[-1] if out.strip() else "done")

    def step_release(self, notes: list[str]) -> None:
        out = self.release("release")
        match = re.search(r"(/stripe/webhook/[0-9a-f-]{36}/)", out)
        if not match or "Created webhook endpoint" not in out:
            raise RehearsalError(f"the release printed no new webhook endpoint:\n{_tail(out)}")
        self.webhook_path = match.group(1)
        if f"Full URL: {self.site}{self.webhook_path}" not in out:
            raise RehearsalError(f"the webhook URL is not on SITE_URL:\n{_tail(out)}")
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
            raise RehearsalError(f"the second release did not keep the endpoint's URL:\n{_tail(out)}")
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

    def step_https(self, notes: list[str]) -> None:
        direct = f"http://127.0.0.1:{self.ports['web']}"
        plain = requests.get(f"{direct}/explore/", allow_redirects=False, timeout=15)
        want = f"https://127.0.0.1:{self.ports['web']}/explore/"
        if plain.status_code != 301 or plain.headers.get("Location") != want:
            raise RehearsalError(
                f"plain HTTP: {plain.status_code} {plain.headers.get('Location')}, expected 301 {want}"
            )
        proxied = requests.get(
            f"{direct}/explore/",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
            allow_redirects=False,
            timeout=15,
        )
        if proxied.status_code != 200:
            raise RehearsalError(f"X-Forwarded-Proto https: {proxied.status_code}, expected 200")
        hsts = proxied.headers.get("Strict-Transport-Security", "")
        if "max-age=" not in hsts:
            raise RehearsalError("no Strict-Transport-Security on the HTTPS answer")
        health = requests.get(f"{direct}/healthz", allow_redirects=False, timeout=15)
        if health.status_code != 200:
            raise RehearsalError(f"/healthz over plain HTTP (Railway's check): {health.status_code}")
        notes.append(
            f"plain 301 -> https; X-Forwarded-Proto https 200 with HSTS ({hsts}); /healthz plain 200"
        )

    def step_static(self, notes: list[str]) -> None:
        home = expect(Browser(self.site, self.cert).get("/"), 200, "the welcome page")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+\.[0-9a-f]{12}\.(?:css|js))"', home.text)
        css = next((a for a in assets if a.endswith(".css")), None)
        js = next((a for a in assets if a.endswith(".js")), None)
        if css is None or js is None:
            raise RehearsalError(f"no hashed CSS and JS names on the page (found {assets})")
        for asset in (css, js):
            response = requests.get(
                f"{self.site}{asset}",
                headers={"Accept-Encoding": "br, gzip"},
                verify=str(self.cert),
                timeout=15,
            )
            encoding = response.headers.get("Content-Encoding", "")
            cache = response.headers.get("Cache-Control", "")
            if response.status_code != 200 or encoding not in {"gzip", "br"} or "immutable" not in cache:
                raise RehearsalError(
                    f"{asset}: {response.status_code}, Content-Encoding {encoding!r}, Cache-Control {cache!r}"
                )
            notes.append(f"{asset} {encoding}, {cache}")

    def step_signup(self, notes: list[str]) -> None:
        visitor = Browser(self.site, self.cert)
        page = expect(visitor.get("/accounts/signup/"), 200, "the sign-up page")
        fields = form_for(page.text, "/accounts/signup/")
        fields.update(
            email=self.address, username=self.handle, password1=self.password, password2=self.password
        )
        sent = expect(visitor.post("/accounts/signup/", fields), 302, "signing up")
        if "/accounts/confirm-email/" not in sent.headers.get("Location", ""):
            raise RehearsalError(f"after sign-up: {sent.headers.get('Location')}")

        def received() -> EmailMessage | None:
            self.processes.check_alive("worker")
            return next(iter(self.mailbox.to(self.address)), None)

        message = wait_for("the verification e-mail at the SMTP server", received, self.clock, 60)
        text = _text_of(message)
        links = re.findall(r"https://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>]+", text)
        if not links or not links[0].startswith(self.site + "/"):
            raise RehearsalError(f"no confirmation link on {self.site} in the e-mail: {text[:500]}")
        # Opened later, on another device (no session): the address is confirmed, not signed in.
        reader = Browser(self.site, self.cert)
        confirm_page = expect(reader.get(links[0]), 200, "the confirmation link")
        # The page's form posts to a confirmation URL of its own (allauth signs the key afresh).
        form = next(
            (f for f in forms_of(confirm_page.text) if "/accounts/confirm-email/" in f["action"]), None
        )
        if form is None:
            raise RehearsalError("no confirmation form on the confirmation page")
        expect(reader.post(html.unescape(form["action"]), form["fields"]), 302, "confirming the address")
        notes.append(
            f"e-mail {message['Subject']!r} from {message['From']!r}; its link confirmed the address"
        )

    def step_signin(self, notes: list[str]) -> None:
        page = expect(self.person.get("/accounts/login/"), 200, "the sign-in page")
        fields = form_for(page.text, "/accounts/login/")
        fields.update(login=self.address, password=self.password)
        signed_in = expect(self.person.post("/accounts/login/", fields), 302, "signing in")
        if signed_in.headers.get("Location") != "/":
            raise RehearsalError(f"signing in led to {signed_in.headers.get('Location')} (not verified?)")
        cookie = next((c for c in self.person.session.cookies if c.name == "sessionid"), None)
        if cookie is None or not cookie.secure:
            raise RehearsalError("the session cookie is missing or not Secure")
        notes.append("redirected home; the session cookie is Secure")

    def step_post(self, notes: list[str]) -> None:
        home = expect(self.person.get("/"), 200, "the home feed")
        text = f"Rehearsing the release {self.handle}"
        fields = form_for(home.text, "/")
        fields.update(text=text, visibility="public")
        expect(self.person.post("/", fields, multipart=True), 302, "posting")
        if text not in expect(self.person.get("/"), 200, "the home feed after posting").text:
            raise RehearsalError("the post is not in the author's home feed")
        if text not in expect(self.person.get(f"/@{self.handle}"), 200, "the profile").text:
            raise RehearsalError("the post is not on the profile")
        notes.append("in the home feed and on the profile")

    def step_catalogue(self, notes: list[str]) -> None:
        # What the operator does in Stripe's dashboard (docs/billing.md, "Plans").
        product = self.stripe("POST", "/v1/products", {"name": "Team", **TEAM_METADATA})
        self.price = self.stripe(
            "POST",
            "/v1/prices",
            {
                "product": product["id"],
                "currency": "usd",
                "unit_amount": "2400",
                "recurring[interval]": "month",
                "lookup_key": "team_monthly",
            },
        )

        def on_sale() -> str | None:
            self.processes.check_alive("web", "worker")
            page = expect(self.person.get("/billing/pricing/"), 200, "the pricing page")
            return page.text if self.price["id"] in page.text else None

        self.pricing = wait_for("the Team plan on the pricing page", on_sale, self.clock, 60, every=1.0)
        notes.append(f"{product['id']} / {self.price['id']} on the pricing page")

    def step_subscribe(self, notes: list[str]) -> None:
        fields = form_for(self.pricing, "/billing/subscribe/", price_id=self.price["id"])
        to_checkout = expect(self.person.post("/billing/subscribe/", fields), 303, "subscribing")
        checkout_url = to_checkout.headers["Location"]
        if not checkout_url.startswith(f"{self.stripe_base}/c/pay/"):
            raise RehearsalError(f"subscribe sent the person to {checkout_url}")
        checkout_page = requests.get(checkout_url, timeout=30)
        if checkout_page.status_code != 200 or "Team" not in checkout_page.text:
            raise RehearsalError(f"the Checkout page: {checkout_page.status_code}")
        card = {"card_number": "4242424242424242", "exp": "12 / 34", "cvc": "123"}
        paid = requests.post(
            checkout_url,
            data={"email": self.address, "name": "Rehearsal Person", **card},
            allow_redirects=False,
            timeout=30,
        )
        self.success_url = paid.headers.get("Location", "")
        if paid.status_code != 303 or not self.success_url.startswith(
            f"{self.site}/billing/success/?session_id=cs_"
        ):
            raise RehearsalError(f"paying: {paid.status_code} -> {self.success_url!r}")
        notes.append(f"paid on {urllib.parse.urlsplit(checkout_url).path}; back to /billing/success/")

    def step_subscribed(self, notes: list[str]) -> None:
        needed = {"checkout.session.completed", "customer.subscription.created", "invoice.paid"}

        # The billing page reads only what the webhooks wrote (the success page would ask Stripe).
        def subscribed() -> tuple[str, list[tuple[Any, ...]]] | None:
            self.processes.check_alive("web", "worker")
            rows = self.sql("SELECT event_type, state FROM billing_webhookinbox ORDER BY id")
            if not needed <= {event_type for event_type, _ in rows} or any(s != "done" for _, s in rows):
                return None
            page = expect(self.person.get("/billing/"), 200, "the billing page")
            return (page.text, rows) if 'data-status="active"' in page.text else None

        try:
            billing, rows = wait_for(
                "an active subscription on /billing/", subscribed, self.clock, 60, every=1.0
            )
        except RehearsalError as exc:
            rows = self.sql("SELECT event_type, state FROM billing_webhookinbox ORDER BY id")
            raise RehearsalError(f"{exc}; webhook events: {rows}") from exc
        if "Team" not in billing or "Renews on" not in billing:
            raise RehearsalError("the billing page does not show the Team plan renewing")
        thanks = expect(self.person.get(self.success_url), 200, "the success page")
        if "Team" not in thanks.text:
            raise RehearsalError("the success page does not name the plan")
        notes.append(
            f"Team, active, renewing; {len(rows)} webhook events received, all processed by the worker"
        )

    def step_beat(self, notes: list[str]) -> None:
        def beat_ran() -> str | None:
            self.processes.check_alive("beat", "worker")
            beat_log = self.processes.log_path("beat").read_text(errors="replace")
            worker_log = self.processes.log_path("worker").read_text(errors="replace")
            sent = "Sending due task outbox-send-due" in beat_log
            done = re.search(r"outbox\.tasks\.email_send_due\[[^\]]+\] succeeded", worker_log)
            return "ok" if sent and done else None

        # Beat sends an interval task first one interval after it starts (60 s for this one).
        waited = 100 - (time.monotonic() - self.beat_started)
        wait_for("beat's outbox-send-due run by the worker", beat_ran, self.clock, max(waited, 5), every=1.0)
        notes.append("outbox-send-due sent by beat, succeeded in the worker")

    def finish(self) -> int:
        print("Stopping what the rehearsal started", flush=True)
        if self.edge is not None:
            self.edge.stop()
        stopped = self.processes.stop_all()
        if self.smtp is not None:
            self.smtp.stop()
        leftovers = [p for p in stopped if self.processes.alive(p)]
        dropped = False
        if self.database_created:
            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'.encode())
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
                    print(f"  --- {name} log (last lines) ---\n{_tail(log.read_text(errors='replace'), 15)}")
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
