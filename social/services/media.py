"""Post images' files: what happens to them when their post stops being shown.

- A deleted image row (the author deleting the post, an account erasure, a cascade, the admin)
  takes its file with it once the deletion commits (``social.receivers.post_image_deleted``).
- A post hidden by a moderator keeps its files for the moderators, but under new names
  (``post_images_withdraw``): a bucket cannot revoke a signed URL or a CDN link it has handed out,
  so the object those point at is moved away. On the local disk the view refuses them anyway.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import PurePosixPath

from django.db import transaction

from config.storage import media_copy
from social.models import PostImage

logger = logging.getLogger(__name__)

WITHDRAWN_FOLDER = "withdrawn"


def post_images_withdraw(*, post_id: int) -> int:
    """Moves the images of post ``post_id``, if it is hidden, to fresh unpublished names under
    ``withdrawn/``; returns how many moved. Idempotent (run by a retried task after the hide
    commits): images already moved, or of a post not hidden, are left as they are.

    Each image is copied, its row pointed at the copy, and only then the original deleted, so a
    failure half-way leaves a row that names a file that exists."""
    moved = 0
    images = PostImage.objects.filter(post_id=post_id, post__hidden_at__isnull=False).exclude(
        image__startswith=f"{WITHDRAWN_FOLDER}/"
    )
    for image in images:
        old, storage = image.image.name, image.image.storage
        new = media_copy(
            old, f"{WITHDRAWN_FOLDER}/{uuid.uuid4().hex}{PurePosixPath(old).suffix}", storage=storage
        )
        if PostImage.objects.filter(pk=image.pk, image=old).update(image=new):
            storage.delete(old)
            moved += 1
        else:  # the row changed or went meanwhile: the copy is not needed
            storage.delete(new)
    return moved


def post_images_tidy() -> tuple[int, int]:
    """Brings media stored before these rules under them: deletes the images of deleted posts
    (their files go once each deletion commits) and withdraws hidden posts' images. Returns
    (images deleted, images withdrawn). Safe to run again; ``manage.py post_images_tidy``."""
    deleted = 0
    for image in PostImage.objects.filter(post__deleted_at__isnull=False).iterator():
        with transaction.atomic():
            image.delete()
        deleted += 1
    hidden = (
        PostImage.objects.filter(post__hidden_at__isnull=False)
        .exclude(image__startswith=f"{WITHDRAWN_FOLDER}/")
        .values_list("post_id", flat=True)
        .distinct()
    )
    withdrawn = sum(post_images_withdraw(post_id=post_id) for post_id in list(hidden))
    return deleted, withdrawn
