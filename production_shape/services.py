"""The services a run brings of its own: a redis-server, an SMTP mailbox and the Stripe stand-in."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import redis

from production_shape.processes import ROOT, ShapeError, free_port

STANDIN_KEY = "sk_test_crashprobe000000000000000000000"


class RedisProcess:
    """A redis-server of the caller's own, on a free port (kept across restarts), stopped by its pid."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, seconds: float = 15) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the caller's terminal is the caller's to handle
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                client.ping()
                return self.process
            except redis.ConnectionError:
                time.sleep(0.05)
        raise ShapeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)

    def queued(self) -> int:
        return int(redis.Redis(port=self.port).llen("celery"))


class Mailbox:
    """An SMTP server on loopback (aiosmtpd, in this process) that keeps every message it accepts."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # never started, or already stopped
            self.controller.stop()

    def received(self) -> list[tuple[list[str], EmailMessage]]:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpts, message in self.received() if address in rcpts]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return str(part.get_content()) if part is not None else ""


def standin_call(base: str, method: str, path: str, params: dict[str, str] | None = None) -> dict:
    """One call to the stand-in's API (any well-formed test key is accepted)."""
    data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
    query = "?" + urllib.parse.urlencode(params) if method != "POST" and params else ""
    request = urllib.request.Request(  # noqa: S310 - loopback http
        base + path + query, data=data, method=method, headers={"Authorization": f"Bearer {STANDIN_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def standin_start(
    port: int,
    state: Path | str,
    *,
    webhooks: bool,
    reset: bool = False,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """The Stripe stand-in as its own process (``manage.py stripe_local``, debug settings: it is no
    part of the production settings), its state in ``state`` (``""``: in memory); returns once it
    answers. ``env`` replaces this process's environment."""
    base_env = dict(os.environ if env is None else env)
    for name in ("DJANGO_TESTING", "PYTEST_CURRENT_TEST"):
        base_env.pop(name, None)
    base_env.update(DJANGO_DEBUG="1", DJANGO_TESTING="0")
    args = [sys.executable, "manage.py", "stripe_local", "--addr", f"127.0.0.1:{port}", "--state", str(state)]
    if not webhooks:
        args.append("--no-webhooks")
    if reset:
        args.append("--reset")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            args, cwd=ROOT, env=base_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        if log:
            out.close()  # type: ignore[union-attr]  # a file when log is given
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            standin_call(f"http://127.0.0.1:{port}", "GET", "/_local/clock")
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    raise ShapeError("the stand-in did not start")
