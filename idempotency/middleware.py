"""``Idempotency-Key`` on the API's writes: a retried request is answered once, as Stripe does.

A write whose database connection drops during its commit answers 503 (``config.faults``), and
the client cannot tell whether it happened. With ``Idempotency-Key: <1-255 printable ASCII>`` on
a POST, PUT, PATCH or DELETE under ``/api/v1/``, the client may simply send it again:

- the request runs in one transaction with the record of its answer (``IdempotencyRecord``):
  a commit that fails keeps neither, a commit that succeeded keeps both, even if the connection
  then dropped before the client heard of it. The project does not use ``ATOMIC_REQUESTS``:
  this is the outer transaction, the services' own ``atomic`` blocks become savepoints in it,
  and their ``on_commit`` work (e-mails, tasks, fan-out) runs once it commits;
- the same key again, with the same method, path and body (SHA-256): the stored answer,
  with ``Idempotent-Replayed: true``; the view does not run;
- the same key with another method, path or body: 422 ``idempotency_key_reused``;
- the same key while its first request is still running: 409 ``idempotency_key_in_progress``
  with ``Retry-After: 1`` (a PostgreSQL advisory transaction lock, not waited for; SQLite takes
  its one write lock when the transaction begins, so there the second request waits for the
  first and is then replayed);
- 5xx and 429 answers are not kept (the client may retry them), and a 5xx rolls the request's
  writes back so that retrying it is safe; nor is an answer the view marked
  ``Cache-Control: no-store`` (it holds a secret shown once, e.g. a new API key, which must not
  sit in clear in this table): its retry runs again;
- keys belong to the authenticated user (session or API key: an API key's owner); an
  anonymous request's key is checked for its form and otherwise ignored (no write under
  ``/api/v1/`` accepts anonymous callers);
- a malformed key: 400 ``invalid_idempotency_key``;
- a request no route takes (an unknown path, a method its view does not have) is not keyed: it
  gets the 404 or 405 it would get without the header, whatever the key held before.

Placed right before ``config.faults.DatabaseFaultMiddleware``: it sees the view's final answer,
and that middleware's 503 for a connection lost inside the view.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from config.http_errors import database_unavailable, error_response, is_connection_fault
from idempotency import selectors, services
from idempotency.models import IdempotencyRecord
from idempotency.principal import principal_id

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PREFIX = "/api/v1/"
KEY_PATTERN = re.compile(r"[\x20-\x7e]{1,255}")
IN_PROGRESS_RETRY_AFTER = 1
# Headers of the answer that are part of it (the others are added again by the middleware
# around this one on every answer: cache, security, request id, CORS).
KEPT_HEADERS = ("Content-Type", "Location", "Allow", "Retry-After", "Link", "ETag", "Last-Modified")
_CHUNK = 64 * 1024


class IdempotencyMiddleware:
    """See the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if not _route_takes(request):
            return self.get_response(request)
        if not KEY_PATTERN.fullmatch(key):
            return error_response(
                request,
                status=400,
                code="invalid_idempotency_key",
                message=f"{HEADER} must be 1 to 255 printable ASCII characters.",
            )
        user_id = principal_id(request)
        if user_id is None:
            return self.get_response(request)
        try:
            return self._keyed(request, user_id=user_id, key=key, body_sha256=_body_sha256(request))
        except Exception as exc:
            # The commit failed, or its acknowledgement was lost (then the record stands and
            # the retry is replayed): either way the client may send the same key again.
            if not is_connection_fault(exc):
                raise
            logger.warning(
                "Database connection lost committing %s %s; answered 503", request.method, request.path
            )
            if not connection.in_atomic_block:
                connection.close()
            return database_unavailable(request)

    def _keyed(self, request: HttpRequest, *, user_id: int, key: str, body_sha256: str) -> HttpResponse:
        method, path = request.method or "", request.get_full_path()
        with transaction.atomic():
            if not services.idempotency_lock_try(user_id=user_id, key=key):
                return _in_progress(request)
            record = selectors.idempotency_record_get(user_id=user_id, key=key)
            if record is not None and record.created_at < timezone.now() - _ttl():
                # Expired but not swept yet: the key is free again.
                services.idempotency_record_delete(record=record)
                record = None
            if record is not None:
                if (record.method, record.path, record.body_sha256) != (method, path, body_sha256):
                    return _reused(request, record)
                return _replay(record)
            response = self.get_response(request)
            if not _keepable(response):
                if response.status_code >= 500:
                    # Nothing the failed request did stands, so the retry it invites is safe.
                    transaction.set_rollback(True)
                return response
            try:
                services.idempotency_record_store(
                    user_id=user_id,
                    key=key,
                    method=method,
                    path=path,
                    body_sha256=body_sha256,
                    status=response.status_code,
                    body=response.content,
                    headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
                )
            except IntegrityError:
                # Another request with this key committed under our feet (a lock that did not
                # hold, e.g. a database without advisory locks): ours must not stand as well.
                transaction.set_rollback(True)
                return _in_progress(request)
        return response


def _route_takes(request: HttpRequest) -> bool:
    """Whether a view answers this path and method: a 404 or 405 is not the write the key stands
    for, so it neither replays, nor is refused as a reuse, nor takes the key."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    if view_class is None:
        return True  # a function view: it says itself what it takes
    method = (request.method or "").lower()
    return method in view_class.http_method_names and hasattr(view_class, method)


def _ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def _keepable(response: HttpResponse) -> bool:
    """Whether the answer is one a retry should get again: a final answer, complete in memory,
    without a secret (``no-store`` from the view itself) and whose writes can commit."""
    status = response.status_code
    if status >= 500 or status == 429 or response.streaming:
        return False
    if "no-store" in response.get("Cache-Control", ""):
        return False
    # A query failed inside the view and was answered (the transaction cannot commit anything).
    return not connection.needs_rollback


def _body_sha256(request: HttpRequest) -> str:
    """SHA-256 of the raw body. Bodies within Django's in-memory limit are read as ``body``
    (kept for the parsers); a bigger one (a multipart upload: ``config.guards`` refuses the
    others) is read once into a spooled file, which then stands in for the stream, so the
    upload is neither held whole in memory nor refused."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is None or length <= limit:
        return hashlib.sha256(request.body).hexdigest()
    digest = hashlib.sha256()
    # Freed with the request (an unlinked temporary file once it outgrows memory).
    spool = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115 - handed to the request
    stream = request._stream  # Django's private stream: read() would mark the body as consumed
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    request._stream = spool  # type: ignore[assignment]  # a file like the stream: what the upload parser reads next
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status)
    if "Content-Type" not in record.response_headers:
        del response["Content-Type"]  # an empty answer had none (DRF drops it), not text/html
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _in_progress(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        status=409,
        code="idempotency_key_in_progress",
        message=f"A request with this {HEADER} is still being processed. Retry in a moment.",
        headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)},
    )


def _reused(request: HttpRequest, record: IdempotencyRecord) -> HttpResponse:
    return error_response(
        request,
        status=422,
        code="idempotency_key_reused",
        message=(
            f"This {HEADER} was already used for another request ({record.method} {record.path} "
            "with another body). Use a new key for a new request."
        ),
    )
