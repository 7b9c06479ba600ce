"""Moves uploaded media from the local disk (MEDIA_ROOT) to the configured bucket.

Run once after setting STORAGE_URL / AWS_* on a deployment that used the disk. Each file keeps
its name, so every FileField that points at it stays valid. Files already in the bucket with
the same size are skipped, so the command can be run again after an interruption.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.storage import media_is_remote


class Command(BaseCommand):
    help = "Copy every file under MEDIA_ROOT to the media bucket (same names); --delete-local removes the copies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", default=str(settings.MEDIA_ROOT), help="local media folder")
        parser.add_argument(
            "--delete-local", action="store_true", help="delete each local file once it is in the bucket"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not media_is_remote(default_storage):
            raise CommandError("No media bucket is configured (STORAGE_URL or AWS_STORAGE_BUCKET_NAME).")
        source = Path(options["source"])
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder.")
        copied = skipped = 0
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            name = path.relative_to(source).as_posix()
            if default_storage.exists(name) and default_storage.size(name) == path.stat().st_size:
                skipped += 1
            else:
                with path.open("rb") as handle:
                    saved = default_storage.save(name, File(handle, name=name))
                if saved != name:
                    raise CommandError(f"{name} was stored as {saved}: the database still points at {name}.")
                copied += 1
            if options["delete_local"]:
                path.unlink()
        self.stdout.write(f"Copied {copied} file(s), {skipped} already in the bucket.")
