"""The cache backend: Redis (django-redis) that fails over to this process's memory.

Redis is a cache, a rate-limit store and the Celery broker here, never the system of record
(sessions are in PostgreSQL behind it, ``cached_db``). So when Redis stops answering, nothing a
user does should fail with it:

- every call that Redis refuses (connection refused, timeout) is answered by a local-memory
  cache instead, and Redis is not tried again for ``RETRY_SECONDS`` (no timeout per call while
  it is down). Sessions then load from PostgreSQL, rate limits count per process (they still
  limit, more loosely: one counter per worker instead of one shared), cached answers are
  recomputed;
- one warning is logged when an outage starts and one when it ends; recovery is automatic;
- keys written or deleted while Redis was unreachable are deleted from Redis before it is used
  again, so a value that changed during the outage (a session that signed out, a plan that
  changed) is not served stale from Redis afterwards. The local copy is emptied when an outage
  starts, for the same reason the other way round. (Another process that has not yet noticed
  the recovery still holds its own list: until its next cache call a stale entry it changed can
  be read by others. A Redis that restarted without persistence, the usual outage, has none.)

Django's own ``RedisCache`` and django-redis's ``IGNORE_EXCEPTIONS`` were not enough: the
latter answers ``None`` to ``incr`` (a rate limit's ``count > limit`` then raises
``TypeError``) and neither falls back to anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
_COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_COUNT_SHA = hashlib.sha1(_COUNT_LUA.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
_REDIS_ERRORS = (ConnectionInterrupted, RedisError, OSError)
T = TypeVar("T")


class ResilientRedisCache(BaseCache):
    """See the module docstring. ``LOCATION`` and ``OPTIONS`` are django-redis's."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.primary = RedisCache(server, params)
        self._fallback = LocMemCache(
            f"relay-fallback-{id(self)}",
            {"TIMEOUT": params.get("TIMEOUT", 300), "OPTIONS": {"MAX_ENTRIES": 10_000}},
        )
        self._retry_at = 0.0
        self._down = False
        self._dirty: set[tuple[str, int | None]] = set()
        self._lock = threading.Lock()

    # --- the failover -------------------------------------------------------------------------------

    @property
    def is_down(self) -> bool:
        return self._down

    def ping(self) -> bool:
        """Whether Redis itself answers now (for the health check): never the fallback."""
        try:
            return bool(self.primary.client.get_client(write=True).ping())
        except _REDIS_ERRORS:
            return False

    def _run(
        self,
        primary: Callable[[], T],
        fallback: Callable[[], T],
        *,
        writes: Iterable[tuple[str, int | None]] = (),
    ) -> T:
        if time.monotonic() >= self._retry_at:
            try:
                if self._dirty:
                    self._forget_changed_keys()
                result = primary()
            except _REDIS_ERRORS as exc:
                self._trip(exc)
            else:
                if self._down:
                    self._down = False
                    logger.warning("Redis answers again: cache, sessions and rate limits use it again.")
                return result
        with self._lock:
            self._dirty.update(writes)
        return fallback()

    def _trip(self, exc: BaseException) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if not self._down:
            self._down = True
            self._fallback.clear()  # whatever it held is from an earlier outage: stale
            logger.warning(
                "Redis unreachable (%s: %s): cache, sessions and rate limits fall back to this "
                "process's memory; retrying every %ss.",
                type(exc).__name__,
                exc,
                RETRY_SECONDS,
            )

    def _forget_changed_keys(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        try:
            for key, version in dirty:
                self.primary.delete(key, version=version)
        except _REDIS_ERRORS:
            with self._lock:
                self._dirty |= dirty
            raise

    # --- Django's cache API ---------------------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._run(
            lambda: self.primary.get(key, default, version=version),
            lambda: self._fallback.get(key, default, version=version),
        )

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._run(
            lambda: self.primary.set(key, value, timeout=timeout, version=version),
            lambda: self._fallback.set(key, value, timeout=timeout, version=version),
            writes=[(key, version)],
        )

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run(
            lambda: self.primary.add(key, value, timeout=timeout, version=version),
            lambda: self._fallback.add(key, value, timeout=timeout, version=version),
            writes=[(key, version)],
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._run(
            lambda: self.primary.touch(key, timeout=timeout, version=version),
            lambda: self._fallback.touch(key, timeout=timeout, version=version),
            writes=[(key, version)],
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._run(
            lambda: bool(self.primary.delete(key, version=version)),
            lambda: self._fallback.delete(key, version=version),
            writes=[(key, version)],
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._run(
            lambda: self.primary.has_key(key, version=version),
            lambda: self._fallback.has_key(key, version=version),
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self._run(
            lambda: self.primary.incr(key, delta, version=version),
            lambda: self._fallback.incr(key, delta, version=version),
            writes=[(key, version)],
        )

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        return self.incr(key, -delta, version=version)

    def count(self, key: Any, ttl: int, version: int | None = None) -> int:
        """Adds one to the counter ``key`` and returns it; a new counter lives ``ttl`` seconds.

        One Redis command (a Lua script run by its digest: INCR, and EXPIRE when the counter is
        new, atomically, so a counter never outlives its window); while Redis is down, this
        process's memory counts instead (``add`` then ``incr``)."""
        return self._run(
            lambda: self._count_in_redis(key, ttl, version),
            lambda: _count_in(self._fallback, key, ttl, version),
            writes=[(key, version)],
        )

    def _count_in_redis(self, key: Any, ttl: int, version: int | None) -> int:
        client = self.primary.client.get_client(write=True)
        name = self.primary.make_key(key, version=version)
        try:
            return int(client.evalsha(_COUNT_SHA, 1, name, ttl))
        except NoScriptError:  # a Redis that restarted or flushed its scripts: send it whole
            return int(client.eval(_COUNT_LUA, 1, name, ttl))

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._run(
            lambda: self.primary.get_many(keys, version=version),
            lambda: self._fallback.get_many(keys, version=version),
        )

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._run(
            lambda: self.primary.set_many(data, timeout=timeout, version=version) or [],
            lambda: self._fallback.set_many(data, timeout=timeout, version=version),
            writes=[(key, version) for key in data],
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._run(
            lambda: self.primary.delete_many(keys, version=version),
            lambda: self._fallback.delete_many(keys, version=version),
            writes=[(key, version) for key in keys],
        )

    def clear(self) -> None:
        self._fallback.clear()
        self._run(lambda: self.primary.clear(), lambda: None)

    def close(self, **kwargs: Any) -> None:
        with contextlib.suppress(*_REDIS_ERRORS):
            self.primary.close(**kwargs)


def _count_in(cache: BaseCache, key: Any, ttl: int, version: int | None = None) -> int:
    """``ResilientRedisCache.count`` on any other cache: ``add`` then ``incr``."""
    cache.add(key, 0, ttl, version=version)
    try:
        return cache.incr(key, version=version)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, ttl, version=version)
        return 1


def cache_count(cache: BaseCache, key: Any, ttl: int) -> int:
    """Adds one to the counter ``key`` of ``cache`` (created with ``ttl`` seconds to live) and
    returns it: one Redis command on this project's Redis cache, ``add`` + ``incr`` elsewhere."""
    if isinstance(cache, ResilientRedisCache):
        return cache.count(key, ttl)
    return _count_in(cache, key, ttl)
