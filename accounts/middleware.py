"""Request plumbing for accounts: the client's address, the session's user (loaded with a
precompiled query), and session activity tracking for allauth.usersessions at most once a
minute per session."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.usersessions.internal import usersessionkit
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from accounts.request_info import client_ip
from accounts.session_auth import session_user

# "Last seen" on the sessions page is precise to this many seconds.
ACTIVITY_INTERVAL_SECONDS = 60
# When activity was last recorded, kept in the session itself (already loaded by authentication),
# so any number of server processes share it and the requests in between cost nothing.
SESSION_KEY = "_usersessions_activity_at"


class ClientIpMiddleware:
    """Resolves the client's address once (``accounts.request_info.client_ip``), first thing.

    The result replaces ``REMOTE_ADDR`` and ``X-Forwarded-For`` is removed, so allauth, DRF's
    throttles, dj-stripe's webhook log (which reads the header's left-most entry) and anything
    else see one validated address and never a value the client chose. A request whose address
    cannot be told gets an empty ``REMOTE_ADDR``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META["REMOTE_ADDR"] = client_ip(request) or ""
        request.META.pop("HTTP_X_FORWARDED_FOR", None)
        return self.get_response(request)


def _cached_session_user(request: HttpRequest) -> object:
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)  # type: ignore[attr-defined]  # Django's own attribute
    return request._cached_user  # type: ignore[attr-defined]  # set above


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware`` (``request.user``, lazily), with the user loaded by
    ``accounts.session_auth.session_user``: the same rules and the same fresh read of the row,
    minus building the ORM query on every request."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)  # the session check, and Django's request.auser
        request.user = SimpleLazyObject(lambda: _cached_session_user(request))  # type: ignore[assignment]  # lazy, as Django's


class UserSessionsMiddleware:
    """allauth's UserSessionsMiddleware, minus a database write on every request.

    allauth records IP, user agent and "last seen" for the session on *every* signed-in request
    (three queries and an UPDATE). This records it at most once a minute per session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            now = time.time()
            if now - float(session.get(SESSION_KEY, 0)) >= ACTIVITY_INTERVAL_SECONDS:
                session[SESSION_KEY] = now
                usersessionkit.track_activity(request, user=user, session=session)
        return self.get_response(request)
