"""Signal receivers of the social app: each only calls a service. Connected in
``SocialConfig.ready()``."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from accounts.models import Profile
from config.storage import media_delete_on_commit
from social.models import FollowRequest, PostImage
from social.services import follow_request_accept_all


def profile_saved(
    sender: type[Profile], instance: Profile, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    """An account that is (now) public needs no follow requests: every pending one is
    accepted, whoever made the change (the settings page, the API, the admin)."""
    if update_fields is not None and "is_private" not in update_fields:
        return
    if not instance.is_private and FollowRequest.objects.filter(target_id=instance.user_id).exists():
        follow_request_accept_all(owner=instance.user)


def post_image_deleted(sender: type[PostImage], instance: PostImage, **kwargs: Any) -> None:
    """Whatever removed an image's row (the author deleting the post, an account erasure, a
    thread's cascade, the admin), its file goes once that commits."""
    media_delete_on_commit([instance.image.name], storage=instance.image.storage)


def connect() -> None:
    post_delete.connect(
        post_image_deleted, sender=PostImage, dispatch_uid="social.receivers.post_image_deleted"
    )
    post_save.connect(profile_saved, sender=Profile, dispatch_uid="social.receivers.profile_saved")
