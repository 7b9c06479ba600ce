"""Deletes stored invalid webhook deliveries older than the retention period (also run daily by
Celery beat); valid deliveries are kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from billing.webhook_intake import webhook_invalid_prune


class Command(BaseCommand):
    help = "Delete invalid (unsigned, forged or stale) webhook deliveries older than N days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.WEBHOOK_INVALID_RETENTION_DAYS,
            help="Keep the last N days (default WEBHOOK_INVALID_RETENTION_DAYS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = webhook_invalid_prune(older_than=timedelta(days=options["days"]))
        self.stdout.write(f"{deleted} invalid webhook deliveries deleted.")
