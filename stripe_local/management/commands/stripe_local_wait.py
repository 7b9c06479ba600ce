"""Wait until the local Stripe stand-in answers (used by scripts/dev before billing_setup_local)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Wait until the local Stripe stand-in at STRIPE_API_HOST answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.STRIPE_USE_LOCAL:
            self.stdout.write("A real Stripe key is configured: nothing to wait for.")
            return
        url = settings.STRIPE_API_HOST.rstrip("/") + "/_local/clock"
        if not url.startswith(("http://", "https://")):
            raise CommandError(f"STRIPE_API_HOST is not an http(s) URL: {settings.STRIPE_API_HOST}")
        deadline = time.monotonic() + options["timeout"]
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - scheme checked above
                    if response.status == 200:
                        self.stdout.write(f"Local Stripe stand-in is up at {settings.STRIPE_API_HOST}.")
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise CommandError(f"The local Stripe stand-in did not answer at {settings.STRIPE_API_HOST}.")
            time.sleep(0.2)
