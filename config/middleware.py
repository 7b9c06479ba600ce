"""Project-wide middleware: request ids with one access-log line, private responses kept out
of caches, the Content-Security-Policy header, and the user's time zone."""

from __future__ import annotations

import logging
import re
import time
import uuid
import zoneinfo
from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import empty
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
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute on HttpRequest
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the handler itself fails
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            status = response.status_code
            return response
        finally:
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _loaded_user_id(request),
                },
            )
            request_id_var.reset(token)


def _loaded_user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id if the request already loaded its user, else None. Never loads
    the session itself: after the response that is a cache or database round trip that can
    fail (Redis or PostgreSQL down) and would cost the request its log line."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class PrivateCacheMiddleware:
    """Responses to a signed-in request (session or API key) that say nothing about caching get
    ``Cache-Control: private, no-store``: a shared cache or the browser's back/forward history
    must not keep a settings page, a notification list or a new API key.

    Views that set their own ``Cache-Control`` keep it. Media under ``MEDIA_URL`` are left to
    the view serving them; static files are answered by WhiteNoise before this runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" in response or request.path.startswith(settings.MEDIA_URL):
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response


# What a view may set on its response to change the policy (django-csp's decorators).
_CSP_RESPONSE_PARTS = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# (header, response attribute exempting it, setting, report-only) as django-csp sets them.
_CSP_HEADERS = (
    (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
    (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
)
# Per header: the policy built from the settings alone, and the path prefixes it skips.
_settings_policies: dict[str, tuple[str, tuple[str, ...]]] = {}


def _settings_policy(header: str, setting: str, report_only: bool) -> tuple[str, tuple[str, ...]]:
    if header not in _settings_policies:
        config = getattr(settings, setting, None) or {}
        prefixes = tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())
        _settings_policies[header] = (build_policy(report_only=report_only), prefixes)
    return _settings_policies[header]


@receiver(setting_changed)
def _settings_policy_changed(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy of a response that changes nothing of it built
    once per process instead of on every response.

    django-csp rebuilds the policy string from the settings on every response (both headers,
    each a copy and join of every directive: ~0.1 ms, bench/RESULTS.md, "The fixed cost of a
    signed-in request"). That string depends on the settings alone unless the view set a
    per-response policy (``csp_update``/``csp_replace``/``csp``, report-only included) or the
    request used a nonce; those responses are left to django-csp itself, every other one gets
    the same header django-csp would set, under the same rules (exempt views, headers already
    set, excluded prefixes, debug error pages).
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, part, None) is not None for part in _CSP_RESPONSE_PARTS
        ):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:  # django-csp's debug pages
            return response
        for header, exempt, setting, report_only in _CSP_HEADERS:
            policy, excluded = _settings_policy(header, setting, report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: once the header is written a nonce could not reach it, so asking for
        # one is an error rather than a nonce the policy does not allow.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]  # django-csp's attribute
        return response


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
