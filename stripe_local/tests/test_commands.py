"""The stand-in's management commands."""

from __future__ import annotations

import socket
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_wait_returns_once_the_stand_in_answers(stripe_local):
    out = StringIO()

    call_command("stripe_local_wait", "--timeout", "5", stdout=out)

    assert "is up" in out.getvalue()


def test_wait_fails_when_nothing_answers(stripe_local, settings):
    settings.STRIPE_API_HOST = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(CommandError, match="did not answer"):
        call_command("stripe_local_wait", "--timeout", "0.3")


def test_wait_is_a_no_op_with_a_real_key(settings):
    settings.STRIPE_USE_LOCAL = False
    out = StringIO()

    call_command("stripe_local_wait", stdout=out)

    assert "nothing to wait for" in out.getvalue()


def test_serve_refuses_a_busy_port_and_live_mode(stripe_local, settings):
    busy = stripe_local.base_url.removeprefix("http://")

    with pytest.raises(CommandError, match="Cannot listen"):
        call_command("stripe_local", "--addr", busy, "--state", "")
    settings.STRIPE_LIVE_MODE = True
    with pytest.raises(CommandError, match="live mode"):
        call_command("stripe_local", "--addr", f"127.0.0.1:{free_port()}", "--state", "")
