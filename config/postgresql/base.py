"""Django's PostgreSQL backend, with the health check of a reused connection made free while
the connection is well.

``CONN_HEALTH_CHECKS`` makes Django send ``SELECT 1`` before the first query of every request
on a persistent connection, so that one which ended between requests (a database restart,
``pg_terminate_backend``, a proxy's idle timeout) is replaced instead of failing that query.
That round trip was ~15% of a signed-in request's user load (bench/RESULTS.md, "The fixed cost
of a signed-in request").

A connection that ended leaves a trace on its idle socket: PostgreSQL sends its FATAL message and
closes it, so the socket is readable (the message, or end of file) or hung up. A healthy idle
connection in autocommit has nothing to read. So the check first asks the socket (one ``poll``
with no wait, no round trip) and psycopg (closed, broken, not idle); only when either shows
anything at all does it fall back to Django's own ``SELECT 1``, which decides. The rules of
when a check runs are Django's, unchanged.

What no check can see, a connection that ends after it (between the check and the query, or
during the request), is handled as before: the first query of a signed-in request, the user row,
is read again on a fresh connection (``accounts.session_auth``), and ``config.faults`` retries
reads and answers 503 for anything else.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import pq

_TRACE = select.POLLIN | select.POLLPRI  # POLLHUP and POLLERR are always reported


def idle_connection_looks_well(raw: Any) -> bool:
    """Whether the psycopg connection ``raw``, between requests, shows no sign of having ended
    (see the module docstring). False is only a suspicion, for ``SELECT 1`` to settle."""
    if raw.closed or raw.broken:
        return False
    pgconn = raw.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        fd = pgconn.socket
    except Exception:  # noqa: BLE001 - psycopg raises when it has no socket: not well
        return False
    poller = select.poll()
    poller.register(fd, _TRACE)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        """Django's check, with ``SELECT 1`` sent only when the connection looks anything but
        well (module docstring)."""
        state: Any = self  # Django's attributes, not in django-stubs
        if self.connection is None or not state.health_check_enabled or state.health_check_done or state.pool:
            return
        if not idle_connection_looks_well(self.connection) and not self.is_usable():
            self.close()
        state.health_check_done = True
