"""The static files storages (``STORAGES["staticfiles"]``), each remembering the URLs it gave.

A page asks for dozens of static URLs (icons, styles, scripts), each one the same on every
render: ``{% static %}`` and ``static()`` call the storage's ``url()``, which joins and quotes the
path (and with the manifest, looks the hashed name up) every time, ~1 ms a home page render
(bench/RESULTS.md). The answer only changes when the files are collected again, which starts a
new process or a new storage instance, so each instance keeps a dict of the URLs it answered.
This is the storage's own ``url()``: every caller benefits and no template tag library is replaced
(a tag registered as ``static`` trips Django's templates.W003 in ``check --deploy``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import StaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# A bound, in case a caller builds names from input: past it, URLs are worked out, not stored.
MAX_CACHED_URLS = 5_000


class CachedUrlsMixin:
    """Answers ``url(name)`` from a per-instance dict once worked out. ``url(name, force=True)``
    (the manifest's "hashed even in DEBUG") is left uncached, as are failures (a file missing
    from a strict manifest raises every time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The manifest answers unhashed names in DEBUG: the switch is part of the key.
        self._cached_urls: dict[tuple[str | None, bool], str] = {}

    def url(self, name: str | None, *args: Any, **kwargs: Any) -> str:
        if args or kwargs:
            return super().url(name, *args, **kwargs)  # type: ignore[misc]  # the storage this mixes into has url()
        key = (name, settings.DEBUG)
        url = self._cached_urls.get(key)
        if url is None:
            url = super().url(name)  # type: ignore[misc]  # as above
            if len(self._cached_urls) < MAX_CACHED_URLS:
                self._cached_urls[key] = url
        return url

    def url_cache_clear(self) -> None:
        self._cached_urls.clear()


class CachedStaticFilesStorage(CachedUrlsMixin, StaticFilesStorage):
    """Development and tests: files served from their apps' folders, by their own names."""


class CachedManifestStaticFilesStorage(CachedUrlsMixin, CompressedManifestStaticFilesStorage):
    """Production: hashed, compressed names from the manifest ``collectstatic`` wrote."""

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        # collectstatic rewrites the manifest: no URL worked out before it may survive it.
        yield from super().post_process(*args, **kwargs)
        self.url_cache_clear()
