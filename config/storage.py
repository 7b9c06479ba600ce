"""Uploaded media: one function decides how a file is served, and the few storage operations
the apps share (delete after commit, copy).

``media_url(file, public=...)`` is what presenters call for an avatar or a post image:
- in a bucket, public media come from the CDN (``MEDIA_PUBLIC_BASE_URL``) when one is
  configured, else through a URL signed for ``MEDIA_PUBLIC_URL_SECONDS``; non-public media (a
  followers-only post's images) only through a URL signed for ``MEDIA_SIGNED_URL_SECONDS``, so a
  link copied out of the page stops working;
- on the local disk (the embedded default) it is the plain ``MEDIA_URL`` path, which for post
  images is answered by a view that checks the viewer may see the post (``social.views.media``).

A signed URL is reused while at least half of its life remains (``_SignedUrls``): signing costs
~0.5 ms of CPU in botocore, a feed shows up to 80 images, and a stable URL lets the browser keep
the image in its cache instead of downloading it again on every page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)


def media_is_remote(storage: Storage | None = None) -> bool:
    """True when media live in a bucket (S3-compatible), not on this machine's disk."""
    storage = storage or default_storage
    return hasattr(storage, "bucket_name")


class _SignedUrls:
    """Signed URLs already made, per (bucket, name, lifetime), each reused until half its life is
    gone: whoever gets it still has at least half the lifetime to load the image. Bounded (LRU),
    per process; nothing here is a secret beyond what the URL itself gives its holder."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self._urls: OrderedDict[tuple[str, str, str, int], tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, storage: Storage, name: str, expire: int) -> str:
        key = (
            str(getattr(storage, "endpoint_url", "")),
            str(getattr(storage, "bucket_name", "")),
            name,
            expire,
        )
        now = time.monotonic()
        with self._lock:
            cached = self._urls.get(key)
            if cached is not None and cached[1] > now:
                self._urls.move_to_end(key)
                return cached[0]
        url = str(storage.url(name, expire=expire))  # type: ignore[call-arg]  # S3Storage.url takes expire
        with self._lock:
            self._urls[key] = (url, now + expire / 2)
            self._urls.move_to_end(key)
            while len(self._urls) > self._max_entries:
                self._urls.popitem(last=False)
        return url

    def clear(self) -> None:
        with self._lock:
            self._urls.clear()


signed_urls = _SignedUrls()


def media_url(file: FieldFile | str, *, public: bool) -> str:
    """The URL to give a browser for ``file`` (a FileField value or a storage name).

    The caller decides ``public``: whether everyone who may see the page may see the file
    for as long as they keep the link (an avatar, a public account's public post's image).
    The caller has already checked that the viewer may see it: this only makes the link."""
    storage = file.storage if isinstance(file, FieldFile) else default_storage
    name = file.name if isinstance(file, FieldFile) else file
    if not name:
        raise ValueError("The file has no name: nothing to link to.")
    if not media_is_remote(storage):
        return str(storage.url(name))
    if public and settings.MEDIA_PUBLIC_BASE_URL:
        return f"{settings.MEDIA_PUBLIC_BASE_URL}/{name}"
    expire = settings.MEDIA_PUBLIC_URL_SECONDS if public else settings.MEDIA_SIGNED_URL_SECONDS
    return signed_urls.get(storage, name, int(expire))


def media_delete_on_commit(names: Iterable[str], *, storage: Storage | None = None) -> None:
    """Removes the files once the current transaction commits (never before: a rollback keeps
    them). A file already gone, or a storage that fails, is logged and skipped: the row that
    named it is gone either way."""
    names = [name for name in names if name]
    if not names:
        return
    target = storage or default_storage

    def delete() -> None:
        for name in names:
            try:
                target.delete(name)
            except Exception:  # a storage outage must not fail the commit that already happened
                logger.warning("Could not delete media file %s", name, exc_info=True)

    transaction.on_commit(delete)


def media_copy(name: str, new_name: str, *, storage: Storage | None = None) -> str:
    """Copies ``name`` to ``new_name`` (or a free variant of it); returns the name it got."""
    target = storage or default_storage
    with target.open(name, "rb") as source:
        return str(target.save(new_name, source))
