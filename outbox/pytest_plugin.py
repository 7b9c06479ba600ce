"""A real SMTP server on loopback for tests (aiosmtpd), and the settings that send through it.

Only tests import this (through the root ``conftest.py``'s ``pytest_plugins``).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class SmtpServer:
    """What the server was asked and what it accepted.

    ``refuse(times, at=..., reply=...)`` makes the next ``times`` messages fail at RCPT or DATA
    with that reply (a 4xx "try later" or a 5xx); after that it accepts. ``outage(reply)`` refuses
    every message at RCPT until ``outage(None)``.
    """

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    # Called (blocking the server) with each message it is about to accept: lets a test look
    # at the world at the instant before the server answers 250.
    before_accept: Callable[[EmailMessage], None] | None = None
    _refusals: list[tuple[str, str]] = field(default_factory=list)
    _outage: str | None = None

    def refuse(self, times: int = 1, *, at: str = "RCPT", reply: str = "451 4.3.0 Try again later") -> None:
        self._refusals.extend([(at.upper(), reply)] * times)

    def outage(self, reply: str | None = "421 4.3.2 Service not available") -> None:
        self._outage = reply

    def _refusal(self, stage: str) -> str | None:
        if self._outage and stage == "RCPT":
            self.refused.append(self._outage)
            return self._outage
        if self._refusals and self._refusals[0][0] == stage:
            _, reply = self._refusals.pop(0)
            self.refused.append(reply)
            return reply
        return None

    # aiosmtpd handler hooks -------------------------------------------------------------------
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:  # noqa: N802  (aiosmtpd's hook name)
        reply = self._refusal("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  (aiosmtpd's hook name)
        reply = self._refusal("DATA")
        if reply:
            return reply
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # noqa: S101  (the default policy parses to EmailMessage)
        if self.before_accept is not None:
            self.before_accept(message)
        self.messages.append(message)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on a free 127.0.0.1 port, and the outbox delivering through it."""
    server = SmtpServer(host="127.0.0.1", port=_free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    settings.OUTBOX_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield server
    finally:
        controller.stop()
