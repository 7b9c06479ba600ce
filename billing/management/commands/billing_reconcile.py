"""Re-syncs customers, subscriptions and invoices from Stripe and reports every difference fixed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.reconcile import reconcile


class Command(BaseCommand):
    help = "Re-sync customers, subscriptions and invoices from Stripe (for missed webhooks)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile()
        for line in report.fixed:
            self.stdout.write(line)
        for line in report.gone:
            self.stdout.write(line)
        self.stdout.write(f"{len(report.fixed)} difference(s) fixed.")
        if report.gone:
            self.stdout.write(f"{len(report.gone)} local row(s) whose Stripe object is gone.")
