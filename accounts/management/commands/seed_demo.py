"""Loads demo data: users first, then each app's own demo data (its ``<app>.demo.seed``)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, DEMO_USERS, seed_users

APPS_WITH_DEMO_DATA = ("social", "billing", "integrations", "referrals")


class Command(BaseCommand):
    help = "Creates demo users and demo content (safe to run more than once)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = seed_users()
        for app in APPS_WITH_DEMO_DATA:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(users=users, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for demo in DEMO_USERS:
            self.stdout.write(f"  {demo.email:<22} @{demo.handle}{'  (staff)' if demo.is_staff else ''}")
