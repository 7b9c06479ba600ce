"""What a run started, stopped by pid (never by name), also on Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


class ShapeError(Exception):
    """Something a run started or waited for did not do what it should (the message says what)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(text: str, lines: int = 25) -> str:
    return "\n".join("      | " + line for line in text.strip().splitlines()[-lines:])


def wait_http(url: str, what: str, seconds: float = 90, **kwargs: Any) -> requests.Response:
    """Returns the first answer (any status) of ``url`` within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=3, **kwargs)
        except requests.RequestException:
            if time.monotonic() >= deadline:
                raise ShapeError(f"{what} did not answer within {seconds:.0f} s") from None
            time.sleep(0.3)


def stop_on_signals(signals: Iterable[int] = (signal.SIGTERM,)) -> None:
    """Turns these signals into KeyboardInterrupt: the caller's ``finally`` then stops what it
    started, by pid. SIGINT is restored too (it comes ignored when started in the background)."""

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in signals:
        signal.signal(signum, interrupted)


class Processes:
    """Every child of a run, each in its own session, its output in ``logs/<name>.log``; stopped by
    pid (SIGTERM to the process, SIGKILL to its session if it has not exited after a grace period:
    only what it started)."""

    def __init__(self, logs: Path, remaining: Callable[[], float] | None = None) -> None:
        self.logs = logs
        self.remaining = remaining or (lambda: float("inf"))
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def log_text(self, name: str) -> str:
        return self.log_path(name).read_text(errors="replace")

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - the project's own commands, fixed arguments
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.children[name] = process
        return process

    def adopt(self, name: str, process: subprocess.Popen[bytes]) -> None:
        """A process started elsewhere (the stand-in, a redis-server), stopped with the others."""
        self.children[name] = process

    def run(self, name: str, args: list[str], env: dict[str, str], timeout: float) -> str:
        """Runs a one-off command to its end; returns its output, raises if it failed."""
        process = self.start(name, args, env)
        try:
            process.wait(timeout=max(1.0, min(timeout, self.remaining())))
        except subprocess.TimeoutExpired as exc:
            raise ShapeError(f"{name} did not finish in {timeout:.0f} s") from exc
        finally:
            self.stop(name)
        output = self.log_text(name)
        if process.returncode != 0:
            raise ShapeError(f"{name} exited {process.returncode}:\n{tail(output)}")
        return output

    def alive(self, name: str) -> bool:
        process = self.children.get(name)
        return process is not None and process.poll() is None

    def check_alive(self, *names: str) -> None:
        for name in names:
            process = self.children[name]
            if process.poll() is not None:
                raise ShapeError(f"{name} exited {process.returncode}:\n{tail(self.log_text(name))}")

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
