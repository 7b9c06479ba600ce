"""The API's session authentication: DRF's, minus a CSRF check that cannot refuse anything."""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.request import Request

# Django's CsrfViewMiddleware accepts these methods without looking at a token.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's ``SessionAuthentication``; the CSRF check runs for unsafe methods only.

    DRF builds a ``CsrfViewMiddleware`` on every session-authenticated request and runs it, and
    for a safe method Django's check accepts without reading any token: a fixed cost per request
    (bench/RESULTS.md, "The fixed cost of a signed-in request") for an answer known in advance.
    Every unsafe method is checked exactly as DRF does. Its OpenAPI scheme is ``cookieAuth``,
    as DRF's (``config.api.schema.SessionScheme``).
    """

    def enforce_csrf(self, request: Request) -> None:
        if request.method in _SAFE_METHODS:
            return
        super().enforce_csrf(request)
