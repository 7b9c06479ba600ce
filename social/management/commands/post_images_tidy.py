"""Applies the media rules to images stored before them: ``manage.py post_images_tidy``.

Deleted posts' images are removed (rows and files); hidden posts' images are moved to new names
under ``withdrawn/`` so links handed out earlier stop working. Run once after deploying them;
safe to run again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from social.services.media import post_images_tidy


class Command(BaseCommand):
    help = "Removes deleted posts' images and moves hidden posts' images out of reach."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted, withdrawn = post_images_tidy()
        self.stdout.write(f"Deleted {deleted} images of deleted posts; withdrew {withdrawn} of hidden posts.")
