"""Prepared statements on Django's PostgreSQL connection, for the hot queries.

Django's own cursors bind parameters client-side, so PostgreSQL parses and plans every statement
afresh: for the home feed's statement at 1M posts planning cost more than running it
(bench/RESULTS.md), and for the small per-request ones (the session's user, a profile's owner)
the parse and plan are most of PostgreSQL's work. ``prepared_cursor`` gives a cursor whose
statements each connection prepares once (psycopg keys them by text and parameter types).
It needs a ``prepare_threshold`` that is not None (config/settings.py), or psycopg ignores it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections


class _PreparingCursor(psycopg.Cursor[Any]):
    """A server-side-binding psycopg cursor whose statements are prepared on first use."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        # Needs a prepare_threshold that is not None (config/settings.py), or psycopg ignores it.
        return super().execute(query, params, prepare=True)


class _LoggedCursor(psycopg.Cursor[Any]):
    """The same statement unprepared: psycopg keeps no query text for a prepared execution,
    which Django's query log (DEBUG, tests' query counts) needs."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        # Even if this connection has prepared it already.
        return super().execute(query, params, prepare=False)


def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    """A Django cursor of ``using`` over a ``_PreparingCursor`` (over a ``_LoggedCursor`` while
    Django logs queries: DEBUG, tests' query counts)."""
    connection = connections[using]
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.queries_logged:
        raw: Any = _LoggedCursor(connection.connection)  # the stubs expect a wrapper; Django wraps it
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(_PreparingCursor(connection.connection))  # type: ignore[arg-type]  # the stubs expect Django's wrapper; Django wraps it
