"""Error answers outside DRF's views: JSON under ``/api/`` and ``/_allauth/``, pages elsewhere.

Django's ``handler400/403/404/500`` (``config.urls``), the request guards
(``config.guards``) and the database-fault middleware (``config.faults``) all answer through
``error_response`` so a client of the API never gets an HTML page:

- ``/api/...``: the project's shape ``{"error": {"code", "message", "fields"}}``;
- ``/_allauth/...``: allauth headless's own shape ``{"status", "errors": [{"code", "message"}]}``,
  which its browser clients already parse;
- pages: the branded ``<status>.html`` template where there is one (``500.html`` for any 5xx),
  plain text otherwise.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import TemplateDoesNotExist, loader

# Seconds a client should wait before retrying after a database fault (503).
RETRY_AFTER_SECONDS = 2

_PAGE_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    413: "Request too large",
    415: "Unsupported media type",
    500: "Server error",
    503: "Temporarily unavailable",
}


def is_api_path(path: str) -> bool:
    return path.startswith(("/api/", "/_allauth/"))


def error_response(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    use_request_context: bool = True,
) -> HttpResponse:
    """The error answer for ``request.path`` (see the module docstring).

    ``use_request_context=False`` renders a page without context processors, for answers given
    when the database or the session may be what failed (500, 503).
    """
    response: HttpResponse
    if request.path.startswith("/_allauth/"):
        response = JsonResponse(
            {"status": status, "errors": [{"code": code, "message": message}]}, status=status
        )
    elif request.path.startswith("/api/"):
        response = JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    else:
        response = _page(request, status=status, message=message, use_request_context=use_request_context)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _page(request: HttpRequest, *, status: int, message: str, use_request_context: bool) -> HttpResponse:
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "message": message,
        "title": _PAGE_TITLES.get(status, "Error"),
    }
    try:
        names = [f"{status}.html", "500.html"] if status >= 500 else [f"{status}.html"]
        template = loader.select_template(names)
        body = template.render(context, request if use_request_context else None)
    except TemplateDoesNotExist:
        return HttpResponse(f"{message}\n", status=status, content_type="text/plain; charset=utf-8")
    except Exception:  # noqa: BLE001 - the error page itself failed (e.g. the database is down)
        body = f"{context['title']}. {message}\n"
        return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, status=status)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: the database dropped the connection or refused a new one."""
    return error_response(
        request,
        status=503,
        code="unavailable",
        message="The service is briefly unavailable. Please try again in a moment.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        use_request_context=False,
    )


def is_connection_fault(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a lost or refused database connection, as opposed
    to an error in the query itself (which is a bug, and stays a 500)."""
    while exc is not None:
        if isinstance(exc, InterfaceError | OperationalError):
            return True
        if isinstance(exc, DatabaseError):
            return False
        exc = exc.__cause__
    return False


def _session_save_lost_connection(exc: SessionInterrupted) -> bool:
    """Django's session store turns any database error on save into ``UpdateError`` and the
    middleware that into ``SessionInterrupted`` (400), each raised inside the ``except`` of the
    one before: a dropped connection is found on that chain (``__context__``)."""
    seen: BaseException | None = exc.__context__
    for _ in range(5):
        if seen is None:
            return False
        if is_connection_fault(seen):
            return True
        seen = seen.__context__
    return False


# --- Django's handlers (``config.urls``) ----------------------------------------------------------------


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400 for a ``SuspiciousOperation``; 413 when it is a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    if isinstance(exception, SessionInterrupted) and _session_save_lost_connection(exception):
        return database_unavailable(request)
    return error_response(
        request, status=400, code="bad_request", message="The request could not be understood."
    )


def request_too_large(request: HttpRequest) -> HttpResponse:
    limit_mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
    return error_response(
        request, status=413, code="too_large", message=f"The request body is over the {limit_mb} MB limit."
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request, status=403, code="permission_denied", message="You do not have permission to do that."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the same 403 as Django's, in the API's shape under ``/api/``."""
    return error_response(
        request,
        status=403,
        code="csrf_failed",
        message="The form expired or came from another site. Reload the page and try again.",
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message="There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 with ``Retry-After`` when what failed was the database connection (raised
    outside a view, e.g. while a middleware loaded the session; inside views
    ``config.faults.DatabaseFaultMiddleware`` answers first). Django calls this while handling
    the exception, so ``sys.exc_info()`` is the exception that caused it."""
    if is_connection_fault(sys.exc_info()[1]):
        return database_unavailable(request)
    return error_response(
        request,
        status=500,
        code="server_error",
        message="Something went wrong on our side. It has been logged; please try again later.",
        use_request_context=False,
    )
