"""Creates the Stripe customer of every verified user who has none (safe to run any time)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from billing.customers import stripe_customer_sync
from billing.selectors import user_list_without_customer
from billing.stripe_client import BillingUnavailableError


class Command(BaseCommand):
    help = "Creates a Stripe customer for every active, verified user without one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only list who would get one.")
        parser.add_argument("--limit", type=int, default=None, help="At most this many users.")

    def handle(self, *args: Any, dry_run: bool = False, limit: int | None = None, **options: Any) -> None:
        users = user_list_without_customer()
        if limit is not None:
            users = users[:limit]
        created = failed = 0
        for user in users:
            if dry_run:
                self.stdout.write(f"would create: {user.pk} {user.email}")
                continue
            try:
                result = stripe_customer_sync(user_id=user.pk)
            except BillingUnavailableError as exc:
                failed += 1
                self.stderr.write(f"failed: {user.pk}: {exc.message}")
                continue
            created += int(result.created)
        self.stdout.write(f"customers created: {created}, failed: {failed}")
        if failed:
            raise SystemExit(1)
