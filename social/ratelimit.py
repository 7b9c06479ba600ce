"""Cache-based rate limits against spam: fixed windows counted in the shared cache (Redis)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from config.errors import RateLimitedError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/m"`` -> (30, 60); ``"100/d"`` -> (100, 86400)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip()[:1]]


def rate_limit_hit(*, action: str, user_id: int, rate: str | None = None) -> None:
    """Counts one ``action`` by the user; raises RateLimitedError (429) past the limit.

    ``rate`` defaults to ``settings.SOCIAL_RATE_LIMITS[action]``.
    """
    limit, window = parse_rate(rate or settings.SOCIAL_RATE_LIMITS[action])
    now = int(time.time())
    bucket = now // window
    key = f"social:rl:{action}:{window}:{user_id}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        retry_after = max(1, (bucket + 1) * window - now)
        raise RateLimitedError(
            "You are doing that too often. Please wait a little and try again.", retry_after=retry_after
        )
