"""The HTTP face of the stand-in: Stripe's REST API, the hosted pages and webhook delivery.

Pure standard library (``http.server``), so it runs in a thread inside pytest or behind
``manage.py stripe_local``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import pages
from .engine import API_VERSION, MAX_IDEMPOTENCY_KEYS, Engine, StripeError
from .params import ParamError, parse
from .routes import dispatch, json_roundtrip

logger = logging.getLogger("stripe_local")
KEY_RE = re.compile(r"^(sk|rk)_test_[a-zA-Z0-9]{24,}$")
PUBLISHABLE_RE = re.compile(r"^pk_test_[a-zA-Z0-9]{24,}$")
# Endpoints Stripe.js may call with a publishable key.
PUBLISHABLE_PATHS = re.compile(r"^/v1/(payment_methods|tokens)$")


def api_key(headers: Any) -> str | None:
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return str(auth[7:].strip())
    if auth.startswith("Basic "):
        try:
            return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        except ValueError:
            return ""
    return None


class Handler(BaseHTTPRequestHandler):
    server: StripeLocalServer
    protocol_version = "HTTP/1.1"
    server_version = "stripe-local/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from stdlib
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self.handle_request("GET")

    def do_POST(self) -> None:
        self.handle_request("POST")

    def do_DELETE(self) -> None:
        self.handle_request("DELETE")

    def read_body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def handle_request(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        engine = self.server.engine
        if url.path.startswith(("/v1/", "/_local/")):
            status, headers, payload = self.api(engine, method, url.path, url.query, body)
            self.respond(status, "application/json", payload, headers)
            return
        result = pages.handle(engine, method, url.path, url.query, body)
        if result is None:
            self.respond(404, "text/html; charset=utf-8", b"<h1>Not found</h1>")
            return
        status, content_type, payload, headers = result
        # Saved before answering: a paid checkout's state and queued webhooks survive a crash.
        engine.save()
        self.respond(status, content_type, payload, headers)

    def respond(
        self, status: int, content_type: str, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def api(
        self, engine: Engine, method: str, path: str, query: str, body: str
    ) -> tuple[int, dict[str, str], bytes]:
        request_id = "req_" + hashlib.sha256(f"{time.time_ns()}{id(self)}".encode()).hexdigest()[:14]
        version = self.headers.get("Stripe-Version") or API_VERSION
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        idempotency_key = self.headers.get("Idempotency-Key")
        try:
            if not path.startswith("/_local/"):
                self.authenticate(path)
            params = parse(body if method == "POST" else query)
            if method == "POST" and query:
                params = {**parse(query), **params}
        except (StripeError, ParamError) as error:
            return self.error_response(error, headers)
        fingerprint = ""
        if idempotency_key and method == "POST":
            headers["Idempotency-Key"] = idempotency_key
            fingerprint = hashlib.sha256(
                f"{method} {path} {json.dumps(params, sort_keys=True)}".encode()
            ).hexdigest()
        # One lock around the replay check and the call: concurrent retries with one key run once.
        with engine.lock, engine.request(request_id if method != "GET" else None, idempotency_key):
            cached = engine.idempotency.get(idempotency_key) if fingerprint and idempotency_key else None
            if cached is not None:
                if cached["fingerprint"] != fingerprint:
                    mismatch = StripeError(
                        400,
                        f"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{idempotency_key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                    return self.error_response(mismatch, headers)
                headers["Idempotent-Replayed"] = "true"
                headers["Original-Request"] = cached["request_id"]
                return cached["status"], headers, cached["body"].encode()
            mutating = method != "GET"
            saved = json_roundtrip(engine.snapshot()) if mutating else None
            try:
                status, result = dispatch(engine, method, path, params)
                payload = json.dumps(result, indent=2)
            except (StripeError, ParamError) as error:
                if saved is not None and not (isinstance(error, StripeError) and error.status == 402):
                    # A refused request changes nothing (a declined card leaves its failed charge).
                    engine.counters, engine.objects, engine.meta = (
                        saved["counters"],
                        saved["objects"],
                        saved["meta"],
                    )
                    engine.events, engine.deliveries, engine.now = (
                        saved["events"],
                        saved["deliveries"],
                        saved["now"],
                    )
                status, headers, raw = self.error_response(error, headers)
                payload = raw.decode()
            if idempotency_key and method == "POST" and status < 500:
                if len(engine.idempotency) >= MAX_IDEMPOTENCY_KEYS:
                    engine.idempotency.pop(next(iter(engine.idempotency)))
                engine.idempotency[idempotency_key] = {
                    "fingerprint": fingerprint,
                    "status": status,
                    "body": payload,
                    "request_id": request_id,
                }
        if mutating:
            engine.save()
        return status, headers, payload.encode()

    def authenticate(self, path: str) -> None:
        key = api_key(self.headers)
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if KEY_RE.match(key):
            return
        if PUBLISHABLE_RE.match(key) and PUBLISHABLE_PATHS.match(path):
            return
        shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
        raise StripeError(401, f"Invalid API Key provided: {shown}", code=None)

    @staticmethod
    def error_response(
        error: StripeError | ParamError, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if isinstance(error, ParamError):
            error = StripeError(400, error.message, code=error.code, param=error.param)
        return error.status, headers, json.dumps(error.body(), indent=2).encode()


class StripeLocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], engine: Engine) -> None:
        super().__init__(addr, Handler)
        self.engine = engine


class Deliverer(threading.Thread):
    """Delivers queued webhook events over HTTP with retries (development mode)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(name="stripe-local-webhooks", daemon=True)
        self.engine = engine
        self.wake = threading.Event()
        self.stopping = False
        engine.on_delivery = self.wake.set

    def run(self) -> None:
        while not self.stopping:
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            for delivery in self.engine.take_deliveries(due_before=time.time()):
                self.deliver(delivery)

    def deliver(self, delivery: dict[str, Any]) -> None:
        try:
            url, payload, headers = self.engine.signed_delivery(delivery)
        except StripeError:
            return
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked at endpoint creation
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status: int | str = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            status = str(error)
        if isinstance(status, int) and 200 <= status < 300:
            self.engine.delivered(delivery)
            logger.info("webhook %s -> %s: %s", delivery["event"], url, status)
        else:
            logger.warning("webhook %s -> %s failed (%s); retrying", delivery["event"], url, status)
            self.engine.requeue(delivery, status=status)

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()


def start(
    addr: str = "127.0.0.1:0", *, state_path: str | None = None, deliver: bool = True
) -> tuple[StripeLocalServer, threading.Thread, Deliverer | None]:
    """Start the stand-in in background threads. Returns (server, server thread, deliverer).

    ``addr`` port 0 picks a free port; ``server.engine.base_url`` is the address to use.
    """
    host, _, port = addr.rpartition(":")
    engine = Engine(state_path=state_path)
    server = StripeLocalServer((host or "127.0.0.1", int(port)), engine)
    engine.base_url = f"http://{host or '127.0.0.1'}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="stripe-local", daemon=True)
    thread.start()
    deliverer = None
    if deliver:
        deliverer = Deliverer(engine)
        deliverer.start()
    return server, thread, deliverer
