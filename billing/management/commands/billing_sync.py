"""Copies Stripe's products and prices (the plan catalogue) into dj-stripe's tables."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.catalogue import catalogue_sync


class Command(BaseCommand):
    help = "Sync products and prices from Stripe into the local copy."

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue_sync(log=self.stdout.write)
