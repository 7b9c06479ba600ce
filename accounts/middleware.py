"""Session activity tracking for allauth.usersessions, at most once a minute per session."""

from __future__ import annotations

from collections.abc import Callable

from allauth.usersessions.internal import usersessionkit
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

# "Last seen" on the sessions page is precise to this many seconds.
ACTIVITY_INTERVAL_SECONDS = 60


class UserSessionsMiddleware:
    """allauth's UserSessionsMiddleware, minus a database write on every request.

    allauth records IP, user agent and "last seen" for the session on *every* signed-in request
    (three queries and an UPDATE). This records it once per session per minute: a cache ``add``
    decides, so concurrent requests of one session still write at most once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            key = f"usersessions:seen:{session.session_key}"
            if cache.add(key, 1, timeout=ACTIVITY_INTERVAL_SECONDS):
                usersessionkit.track_activity(request, user=user, session=session)
        return self.get_response(request)
