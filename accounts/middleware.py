"""Session activity tracking for allauth.usersessions, at most once a minute per session."""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.usersessions.internal import usersessionkit
from django.http import HttpRequest, HttpResponse

# "Last seen" on the sessions page is precise to this many seconds.
ACTIVITY_INTERVAL_SECONDS = 60
# Sessions remembered per process; past this the memo starts afresh (one extra write each).
_SEEN_MAX = 50_000
_seen: dict[str, float] = {}


class UserSessionsMiddleware:
    """allauth's UserSessionsMiddleware, minus a database write on every request.

    allauth records IP, user agent and "last seen" for the session on *every* signed-in request
    (three queries and an UPDATE). This records it at most once a minute per session and server
    process. The memo is in process memory, so the requests in between cost no round trip at
    all (a shared cache would cost one per request); with N processes a session is written at
    most N times a minute, which is harmless for a "last seen" line.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            now = time.monotonic()
            key = session.session_key
            if now - _seen.get(key, -ACTIVITY_INTERVAL_SECONDS) >= ACTIVITY_INTERVAL_SECONDS:
                if len(_seen) >= _SEEN_MAX:
                    _seen.clear()
                _seen[key] = now
                usersessionkit.track_activity(request, user=user, session=session)
        return self.get_response(request)
