"""Creates or updates dj-stripe's WebhookEndpoint row from STRIPE_WEBHOOK_SECRET (no Stripe call).

Run on every deploy. It prints the URL to register in Stripe's dashboard (or to forward to with
``stripe listen --forward-to <url>`` in test mode, whose ``whsec_...`` then goes in
STRIPE_WEBHOOK_SECRET).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse
from djstripe.models import WebhookEndpoint

ENV_ENDPOINT_ID = "we_relay_from_environment"


class Command(BaseCommand):
    help = "Create/update the dj-stripe webhook endpoint from STRIPE_WEBHOOK_SECRET and print its URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--id", default=ENV_ENDPOINT_ID, help="Stripe id of the endpoint row (default: %(default)s)"
        )
        parser.add_argument("--tolerance", type=int, default=300, help="Signature age tolerance in seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.BILLING_ENABLED:
            # The release step runs this on every deploy; a site without billing has no endpoint.
            self.stdout.write("Billing is disabled (BILLING_ENABLED=0): no webhook endpoint.")
            return
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise CommandError("STRIPE_WEBHOOK_SECRET is not set.")
        endpoint, created = WebhookEndpoint.objects.get_or_create(
            id=options["id"],
            defaults={
                "livemode": settings.STRIPE_LIVE_MODE,
                "url": settings.SITE_URL,
                "enabled_events": ["*"],
                "status": "enabled",
                "api_version": settings.STRIPE_API_VERSION,
                "secret": secret,
            },
        )
        path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})
        endpoint.url = f"{settings.SITE_URL}{path}"
        endpoint.secret = secret
        endpoint.api_version = settings.STRIPE_API_VERSION
        endpoint.livemode = settings.STRIPE_LIVE_MODE
        endpoint.djstripe_tolerance = options["tolerance"]
        endpoint.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} webhook endpoint {endpoint.id}")
        self.stdout.write(path)
        self.stdout.write(f"Full URL: {endpoint.url}")
