"""Processes again the webhook deliveries that were signed correctly but failed while processing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from djstripe.models import WebhookEventTrigger

from billing.services import webhook_trigger_reprocess


class Command(BaseCommand):
    help = "Reprocess failed (valid but unprocessed) webhook events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Only deliveries of the last N days")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now() - timedelta(days=options["days"])
        failed = WebhookEventTrigger.objects.filter(valid=True, processed=False, created__gte=since).order_by(
            "created"
        )
        done = still = 0
        for trigger in failed:
            if options["dry_run"]:
                self.stdout.write(f"would reprocess trigger {trigger.pk}: {trigger.exception}")
                continue
            if webhook_trigger_reprocess(trigger=trigger):
                done += 1
                self.stdout.write(f"reprocessed trigger {trigger.pk} (event {trigger.event_id})")
            else:
                still += 1
                self.stdout.write(f"trigger {trigger.pk} still fails: {trigger.exception}")
        self.stdout.write(f"{done} reprocessed, {still} still failing.")
