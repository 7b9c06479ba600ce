"""Real components started as processes of their own, for fault tests and the fault drill
(``bench/fault_drill.py``): a redis-server on a free loopback port and the Stripe stand-in.
Each is stopped by its own pid, never by name."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
STANDIN_KEY = "sk_test_crashprobe000000000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A redis-server of the caller's own, on a free port (kept across restarts), stopped by its pid."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
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
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)

    def queued(self) -> int:
        return int(redis.Redis(port=self.port).llen("celery"))


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
    state: Path,
    *,
    webhooks: bool,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen:
    """The Stripe stand-in as its own process (``manage.py stripe_local``, debug settings), its
    state in ``state``; returns once it answers. ``env`` replaces this process's environment."""
    base_env = dict(os.environ if env is None else env)
    for name in ("DJANGO_TESTING", "PYTEST_CURRENT_TEST"):
        base_env.pop(name, None)
    base_env.update(DJANGO_DEBUG="1", DJANGO_TESTING="0")
    args = [sys.executable, "manage.py", "stripe_local", "--addr", f"127.0.0.1:{port}", "--state", str(state)]
    if not webhooks:
        args.append("--no-webhooks")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            args, cwd=ROOT, env=base_env, stdout=out, stderr=out, start_new_session=True
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
    raise AssertionError("the stand-in did not start")
