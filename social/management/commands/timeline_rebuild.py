"""Rebuilds home feeds from the follow graph: ``manage.py timeline_rebuild [handle ...]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from social.feeds.fanout import timeline_rebuild


class Command(BaseCommand):
    help = "Rebuilds the home feed of the given users (all active users without arguments)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("handles", nargs="*")

    def handle(self, *args: Any, **options: Any) -> None:
        users = User.objects.filter(is_active=True)
        if options["handles"]:
            users = users.filter(handle__in=options["handles"])
        total = 0
        for user in users.iterator():
            total += timeline_rebuild(user=user)
        self.stdout.write(f"Wrote {total} timeline entries.")
