"""Project-wide middleware: request ids with one access-log line, and the user's time zone."""

from __future__ import annotations

import logging
import re
import time
import uuid
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string

from config.logging import request_id_var

access_log = logging.getLogger("relay.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tags the request with an id (kept from a trusted proxy's X-Request-ID when well formed)
    and logs one line per request. The line holds the path but never the query string, where
    tokens may travel."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# The signed-in user's time zone, kept in their session so no request loads the profile for it.
TIMEZONE_SESSION_KEY = "_relay_tz"


class UserTimezoneMiddleware:
    """Renders dates in the signed-in user's chosen time zone.

    The zone's name is kept in the session: read with the session (which authentication loads
    anyway), it costs no query. A session without it (one that predates this) gets it from the
    profile once. ``timezone_sessions_update`` rewrites it in every session of a user whose
    profile's zone changes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = ""
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated:
            if session is not None:
                tz_name = session.get(TIMEZONE_SESSION_KEY) or ""
                if not tz_name:
                    tz_name = getattr(user, "timezone", "") or ""
                    if tz_name and session.session_key:
                        session[TIMEZONE_SESSION_KEY] = tz_name
            else:
                tz_name = getattr(user, "timezone", "") or ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


def timezone_sessions_update(*, user_id: int, tz_name: str) -> None:
    """Writes a new time zone into every session of the user that allauth's usersessions lists
    (the session pages' list: every sign-in creates an entry). Called after a profile's zone is
    saved; a session it misses keeps the old zone until it signs in again."""
    from allauth.usersessions.models import UserSession

    store_class: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    for session_key in UserSession.objects.filter(user_id=user_id).values_list("session_key", flat=True):
        store = store_class(session_key)
        store[TIMEZONE_SESSION_KEY] = tz_name  # loads it; a missing or expired one loses its key
        if store.session_key is None:
            continue
        try:
            store.save(must_create=False)
        except UpdateError:  # ended meanwhile
            continue
