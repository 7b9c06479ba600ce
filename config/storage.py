"""Uploaded media's URLs: one function decides how a file is served.

``media_url(file, public=...)`` is what presenters call for an avatar or a post image:
public media from the CDN (``MEDIA_PUBLIC_BASE_URL``) when one is configured, else a signed URL
valid ``MEDIA_PUBLIC_URL_SECONDS``; non-public media (a private account's images) only through a
URL signed for ``MEDIA_SIGNED_URL_SECONDS``, so a link copied out of the page stops working.
On the local disk (the embedded default) it is the plain ``MEDIA_URL`` path.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db.models.fields.files import FieldFile


def media_is_remote(storage: Storage | None = None) -> bool:
    """True when media live in a bucket (S3-compatible), not on this machine's disk."""
    storage = storage or default_storage
    return hasattr(storage, "bucket_name")


def media_url(file: FieldFile | str, *, public: bool) -> str:
    """The URL to give a browser for ``file`` (a FileField value or a storage name).

    The caller decides ``public``: whether everyone who may see the page may see the file
    for as long as they keep the link (an avatar, a public account's post image)."""
    storage = file.storage if isinstance(file, FieldFile) else default_storage
    name = file.name if isinstance(file, FieldFile) else file
    if not name:
        raise ValueError("The file has no name: nothing to link to.")
    if not media_is_remote(storage):
        return str(storage.url(name))
    if public and settings.MEDIA_PUBLIC_BASE_URL:
        return f"{settings.MEDIA_PUBLIC_BASE_URL}/{name}"
    expire = settings.MEDIA_PUBLIC_URL_SECONDS if public else settings.MEDIA_SIGNED_URL_SECONDS
    return str(storage.url(name, expire=expire))  # type: ignore[call-arg]  # S3Storage.url takes expire
