"""A database connection lost mid-request is never a bare 500.

PostgreSQL can drop a connection at any moment (restart, failover, ``pg_terminate_backend``,
an idle timeout on a proxy). ``CONN_HEALTH_CHECKS`` (``config.postgresql``: free while the
connection is well) only catches the ones that died *between* requests. For one that dies
during a request:

- an idempotent read (GET, HEAD) is run once more on a fresh connection: the user sees the page;
- anything else, or a read that fails again, answers 503 with ``Retry-After`` (JSON under
  ``/api/``): the write may or may not have happened. An API write sent with an
  ``Idempotency-Key`` (``idempotency.middleware``) runs in one transaction with the record of its
  answer, so the client retries it with the same key and it is done once: a commit that failed
  kept nothing, one that succeeded (its acknowledgement lost) is replayed. Without a key, and on
  the pages, only the client can decide to retry;
- the read that builds a write's answer, once the write has committed, goes through
  ``read_after_commit``: it is run once more on a fresh connection, since a 503 there would
  invite the client to repeat a write that stands (a second post for one submit). Under an
  idempotency key the write has not committed yet at that point (the key's transaction holds
  it): the fault goes up, the 503 rolls everything back, and the retry with the key is safe.
- the user row of a signed-in request, its first query, read by a middleware where no view
  retry reaches, goes through ``read_on_fresh_connection_if_lost`` (``accounts.session_auth``):
  a connection that ended after the health check costs that request nothing, whatever its method.

``process_exception`` sees what views (and the rendering of their templates) raise; a fault
outside a view (a middleware loading the session) reaches ``config.http_errors.server_error``,
which answers the same 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import connection
from django.http import HttpRequest, HttpResponse

from config.http_errors import database_unavailable, is_connection_fault

logger = logging.getLogger(__name__)
_RETRIED = "_relay_db_retried"
T = TypeVar("T")


def read_on_fresh_connection_if_lost(read: Callable[[], T], *, what: str) -> T:
    """Runs ``read``, a read with no effect; on a dropped connection, once more on a fresh one.
    Inside a transaction the connection cannot be replaced (and what ran in it is lost): the
    fault goes up, to the 503 of this module's middleware or of ``server_error``. ``what`` names the read in the log."""
    try:
        return read()
    except Exception as exc:
        if not is_connection_fault(exc) or connection.in_atomic_block:
            raise
        logger.warning("Database connection lost reading %s; reading again", what)
        connection.close()
        return read()


def read_after_commit(read: Callable[[], T]) -> T:
    """Runs ``read`` (a read that follows a committed write); on a dropped connection, once more
    on a fresh one. Inside a transaction the write is not committed yet: the fault goes up."""
    return read_on_fresh_connection_if_lost(read, what="a committed write's answer")


class DatabaseFaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_connection_fault(exception):
            return None
        if connection.in_atomic_block:
            # Inside the transaction of a keyed API write (idempotency.middleware, which rolls
            # it back and closes the connection) or of a test (the project does not use
            # ATOMIC_REQUESTS): the connection cannot be replaced under it.
            return database_unavailable(request)
        connection.close()  # the next query opens a fresh connection
        if request.method in ("GET", "HEAD") and not getattr(request, _RETRIED, False):
            setattr(request, _RETRIED, True)
            logger.warning(
                "Database connection lost during %s %s; retrying once", request.method, request.path
            )
            try:
                return _run_view_again(request)
            except Exception as exc:
                if not is_connection_fault(exc):
                    raise
                connection.close()
        logger.warning("Database connection lost during %s %s; answered 503", request.method, request.path)
        return database_unavailable(request)


def _run_view_again(request: HttpRequest) -> HttpResponse:
    """The view of ``request`` once more, its template rendered here (a lazy queryset may be
    what reaches the database)."""
    match = request.resolver_match
    if match is None:  # pragma: no cover - process_exception runs only after resolving
        raise RuntimeError("no view to retry")
    response = match.func(request, *match.args, **match.kwargs)
    render = getattr(response, "render", None)
    if callable(render) and not getattr(response, "is_rendered", True):
        response = render()
    return response
