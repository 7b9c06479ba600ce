"""Where a request comes from, as far as the project can tell.

One rule for the client's IP address, used by everything that records or counts addresses
(allauth's rate limits and sessions, DRF's throttles, the security log, API-key address alerts,
referrals' fraud checks, dj-stripe's webhook log): ``X-Forwarded-For`` is believed only as far
as ``settings.TRUSTED_PROXY_COUNT`` proxies of our own appended to it, and every value must
parse as an IP address. ``accounts.middleware.ClientIpMiddleware`` applies the rule once, at
the start of each request: it writes the result to ``REMOTE_ADDR`` and drops the header, so a
library that reads either finds the same address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def parse_ip(value: str | None) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one.

    Accepts the forms proxies write: ``1.2.3.4``, ``1.2.3.4:5678``, ``2001:db8::1`` and
    ``[2001:db8::1]:443``.
    """
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4 with a port; bare IPv6 has several colons
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address.

    With ``TRUSTED_PROXY_COUNT = n > 0`` (that many proxies of ours, each appending the address
    it saw), the n-th entry from the right of ``X-Forwarded-For`` is the client as our outermost
    proxy saw it; entries further left are whatever the client claimed and are never read. A
    header with fewer than n entries (a request that bypassed the proxies) or whose entry is not
    an IP address falls back to ``REMOTE_ADDR``. With 0 (the default) the header is ignored.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = forwarded.split(",") if forwarded else []
        if len(hops) >= count:
            ip = parse_ip(hops[-count])
            if ip is not None:
                return ip
    return parse_ip(request.META.get("REMOTE_ADDR"))


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
