"""Sets up billing against the local Stripe stand-in: demo catalogue, webhook endpoint, sync.

Idempotent; ``scripts/dev`` runs it after the stand-in is up. Refuses to run against real
Stripe (the catalogue there is managed in the dashboard; use ``billing_sync``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.catalogue import catalogue_ensure, catalogue_sync, webhook_endpoint_register


class Command(BaseCommand):
    help = "Create the demo catalogue and webhook endpoint in the Stripe stand-in, then sync."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", default=settings.SITE_URL, help="Where the stand-in delivers webhooks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.STRIPE_USE_LOCAL:
            raise CommandError("STRIPE_USE_LOCAL is off: this command only sets up the local stand-in.")
        catalogue_ensure(log=self.stdout.write)
        webhook_endpoint_register(base_url=options["base_url"].rstrip("/"), log=self.stdout.write)
        catalogue_sync(log=self.stdout.write)
