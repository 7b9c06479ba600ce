"""Test helpers for the social app. State is built through the services, as in production."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from PIL import Image

from accounts.models import User
from accounts.tests.factories import UserFactory
from social import services
from social.models import Post


def make_user(*, private: bool = False, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    if private:
        user.profile.is_private = True
        user.profile.save(update_fields=["is_private"])
    return user


def after_commit() -> Any:
    """Runs the on-commit callbacks (timeline fan-out tasks) at the end of the block, as a commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def make_post(author: User, text: str = "Hello world", **kwargs: Any) -> Post:
    with after_commit():
        return services.post_create(author=author, text=text, **kwargs)


def make_follow(follower: User, followee: User) -> None:
    """An established follow, accepting the request when the account is private."""
    with after_commit():
        result = services.follow_create(follower=follower, followee=followee)
        if result.status == "requested":
            services.follow_request_accept(owner=followee, requester=follower)


def png_upload(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def fake_image_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
