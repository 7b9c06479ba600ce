"""Per-key rate limit by the owner's plan, counted in the cache (Redis in production)."""

from __future__ import annotations

import math
import time
from typing import Any

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.auth import request_user_or_none
from accounts.request_info import client_ip
from billing.entitlements import entitlements_get_for_user
from config.cache import cache_count
from config.errors import RateLimitedError
from integrations.models import ApiKey

WINDOW_SECONDS = 60


def _count(counter: str, ttl: int) -> int:
    """Adds one to a window's counter and returns it: one Redis command (``config.cache``'s
    atomic INCR-and-EXPIRE script), add-then-incr on other caches."""
    return cache_count(caches["default"], counter, ttl)


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RequestRateThrottle(BaseThrottle):
    """DRF's ``AnonRateThrottle`` and ``UserRateThrottle`` in one, at their rates
    (``DEFAULT_THROTTLE_RATES["user"]`` per signed-in user, ``["anon"]`` per client address as
    ``accounts.request_info.client_ip`` finds it).

    A fixed window counted with one atomic INCR(+EXPIRE) script: one Redis command per request,
    where DRF's pair costs a GET and a SET (their sliding window keeps a list of timestamps).
    At most twice the rate can pass around a window's edge. Over it: DRF's 429 with
    ``Retry-After`` (seconds to the next window).
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        user = request_user_or_none(request)
        if user is not None:
            scope, ident = "user", str(user.pk)
        else:
            # The one validated client address (accounts.request_info decides which proxy
            # headers to trust), never DRF's get_ident: without NUM_PROXIES that is the whole
            # X-Forwarded-For header, which a client rotates at will.
            scope, ident = "anon", client_ip(request._request) or "unknown"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        if not rate:
            return True
        number, period = str(rate).split("/")
        seconds = _PERIODS[period[0]]
        now = time.time()
        window = int(now // seconds)
        if _count(f"throttle:{scope}:{ident}:{window}", seconds * 2) <= int(number):
            return True
        self._wait = (window + 1) * seconds - now
        return False

    def wait(self) -> float | None:
        return self._wait


class ApiKeyRateThrottle(BaseThrottle):
    """Limits each API key to its owner's plan's ``api_requests_per_minute``.

    A fixed one-minute window with an atomic counter: at most twice the limit can pass around a
    window's edge, which is fine for a fairness limit. Session requests are not counted here.
    Over the limit: 429 ``rate_limited`` with ``Retry-After`` (seconds to the next window).
    """

    def allow_request(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return True
        # entitlements_get_for_user answers from the cache; billing drops it when the plan changes.
        limit = entitlements_get_for_user(user=api_key.user).api_requests_per_minute
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        counter = f"integrations:apikey-throttle:{api_key.pk}:{window}"
        count = _count(counter, WINDOW_SECONDS * 2)
        if count > limit:
            retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            raise RateLimitedError(
                f"This API key may make {limit} requests a minute on your plan. "
                f"Try again in {retry_after} seconds.",
                retry_after=retry_after,
                extra={"limit": limit},
            )
        return True
