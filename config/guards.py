"""Refuses malformed client input before any view sees it, in one place for every route.

What each view would otherwise have to remember (and the review found they did not):

- a NUL character anywhere in the path, the query string or a form field: PostgreSQL cannot
  store or compare it (``ValueError`` deep inside a query, a 500) and no real URL has one: 400;
- a body that names a charset Python does not know (Django silently ignores it and decodes as
  UTF-8): 415;
- a body other than a file upload (``multipart/form-data``) larger than
  ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413. Django enforces the limit only when ``request.body`` or
  ``request.POST`` is read; DRF's JSON parser reads the stream and never does;
- a JSON body nested deeper than ``MAX_JSON_DEPTH`` (``RecursionError`` in the parser or in
  the serializers walking it) or holding a NUL in a string or key: 400. Checked for JSON
  content types and for every body sent to allauth headless (``/_allauth/``), which parses
  ``request.body`` as JSON whatever its content type.

Answers use ``config.http_errors.error_response``: the API's error shape under ``/api/``,
allauth's under ``/_allauth/``, a plain 400 page elsewhere.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from config.http_errors import error_response, request_too_large

# Deeper than any request this API takes (its deepest input is three levels) and far below
# the ~1,000 frames where Python's recursion limit starts to fail.
MAX_JSON_DEPTH = 32
NUL = "\x00"


class RequestGuardMiddleware:
    """See the module docstring. Placed right after the request-id middleware, so the refusal
    still gets its access-log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return _refusal(request) or self.get_response(request)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return error_response(request, status=400, code="invalid", message=message)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if NUL in request.path or any(NUL in key or NUL in value for key, value in request.GET.items()):
        return _bad_request(request, "The address contains a NUL character.")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    charset = request.content_params.get("charset") if request.content_params else None
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            return error_response(
                request, status=415, code="unsupported_media_type", message=f"Unknown charset {charset!r}."
            )
    if request.content_type == "multipart/form-data":
        return None  # files go through the upload handlers and their own limits
    if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return request_too_large(request)
    return _body_refusal(request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _body_refusal(request: HttpRequest) -> HttpResponse | None:
    content_type = request.content_type or ""
    is_json = "json" in content_type or request.path.startswith("/_allauth/")
    is_form = content_type == "application/x-www-form-urlencoded"
    if not (is_json or is_form):
        return None
    try:
        body = request.body  # read once here; Django keeps it for the view and DRF's parsers
    except RequestDataTooBig:  # no (or a lying) Content-Length
        return request_too_large(request)
    if not body:
        return None
    problem = _form_problem(request) if is_form else _json_body_problem(request, body)
    return _bad_request(request, problem) if problem else None


def _form_problem(request: HttpRequest) -> str | None:
    if any(NUL in key or any(NUL in v for v in values) for key, values in request.POST.lists()):
        return "A form field contains a NUL character."
    return None


def _json_body_problem(request: HttpRequest, body: bytes) -> str | None:
    try:
        data = json.loads(body.decode(request.encoding or "utf-8"))
    except RecursionError:
        return f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
    except (ValueError, UnicodeDecodeError, LookupError):
        return None  # not JSON: the view's parser answers its own 400 (or 415)
    return json_problem(data)


def json_problem(data: Any) -> str | None:
    """Why a parsed JSON document is refused (too deep, a NUL in a string or key), or None.
    Iterative, so a deep document cannot exhaust the stack here either."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return "A string in the JSON body contains a NUL character."
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        if isinstance(value, dict):
            if any(NUL in key for key in value):
                return "A key in the JSON body contains a NUL character."
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)
    return None
