"""Run the local Stripe stand-in (stripe_local) until interrupted."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stripe_local.server import start


class Command(BaseCommand):
    help = "Serve the local Stripe stand-in: Stripe's API, hosted checkout/portal pages and webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default=settings.STRIPE_LOCAL_ADDR, help="host:port (default %(default)s)"
        )
        parser.add_argument(
            "--state", default="var/stripe_local.json", help="JSON state file ('' keeps state in memory)"
        )
        parser.add_argument("--reset", action="store_true", help="Start from an empty state")
        parser.add_argument(
            "--no-webhooks", action="store_true", help="Queue webhook events without delivering them"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.STRIPE_LIVE_MODE:
            raise CommandError("The Stripe stand-in never runs in live mode.")
        state = options["state"] or None
        if state and options["reset"]:
            import os

            if os.path.exists(state):
                os.remove(state)
        try:
            server, thread, deliverer = start(
                options["addr"], state_path=state, deliver=not options["no_webhooks"]
            )
        except OSError as error:
            raise CommandError(f"Cannot listen on {options['addr']}: {error}") from error
        self.stdout.write(f"Local Stripe stand-in at {server.engine.base_url} (state: {state or 'memory'})")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            if deliverer:
                deliverer.stop()
            server.shutdown()
            server.engine.save()
            thread.join(timeout=5)
