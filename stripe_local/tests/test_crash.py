"""Webhooks survive a crash of the stand-in: the real process is killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from production_shape.processes import free_port
from production_shape.services import standin_call, standin_start


def serve(port: int, state: Path, *, webhooks: bool) -> subprocess.Popen:
    return standin_start(port, state, webhooks=webhooks)


def test_a_payment_made_before_a_crash_reaches_the_endpoint_once_after_restart(tmp_path):
    received: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body["id"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    port, state = free_port(), tmp_path / "stripe_local.json"
    base = f"http://127.0.0.1:{port}"
    process = serve(port, state, webhooks=False)  # deliveries queued, none sent yet
    try:
        standin_call(
            base,
            "POST",
            "/v1/webhook_endpoints",
            {"url": f"http://127.0.0.1:{hook.server_address[1]}/hook", "enabled_events[]": "*"},
        )
        customer = standin_call(base, "POST", "/v1/customers", {"email": "crash@example.com"})
        product = standin_call(base, "POST", "/v1/products", {"name": "Pro"})
        price = standin_call(
            base,
            "POST",
            "/v1/prices",
            {
                "product": product["id"],
                "currency": "usd",
                "unit_amount": "900",
                "recurring[interval]": "month",
            },
        )
        card = standin_call(base, "POST", "/v1/payment_methods", {"type": "card", "card[token]": "tok_visa"})
        standin_call(base, "POST", f"/v1/payment_methods/{card['id']}/attach", {"customer": customer["id"]})
        subscription = standin_call(
            base,
            "POST",
            "/v1/subscriptions",
            {
                "customer": customer["id"],
                "items[0][price]": price["id"],
                "default_payment_method": card["id"],
            },
        )
        assert subscription["status"] == "active"
        os.kill(process.pid, signal.SIGKILL)  # before any delivery
        process.wait(timeout=10)
        assert received == []

        process = serve(port, state, webhooks=True)
        events = standin_call(base, "GET", "/v1/events", {"limit": "100"})["data"]
        assert "invoice.paid" in {event["type"] for event in events}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            not {event["id"] for event in events} <= set(received)
            or standin_call(base, "GET", "/_local/deliveries")["data"]
        ):
            time.sleep(0.2)
        time.sleep(1.0)  # any duplicate would arrive by now
        # Killed again after delivering: what was acknowledged is never sent a second time.
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        process = serve(port, state, webhooks=True)
        time.sleep(2.0)
    finally:
        process.kill()
        process.wait(timeout=10)
        hook.shutdown()

    assert len(received) == len(set(received))  # nothing twice
    assert {event["id"] for event in events} <= set(received)  # nothing lost, the payment included
