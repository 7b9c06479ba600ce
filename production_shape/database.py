"""Databases of a run's own on the shared PostgreSQL server, copied from a cached template
migrated to the current migration set (migrations from empty take minutes on a busy box)."""

from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from production_shape.processes import ROOT


def sql(dsn: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One statement of the caller's own literal SQL, autocommit; the rows if it returns any."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(query.encode(), params)
        return cursor.fetchall() if cursor.description else []


def database_drop(admin_dsn: str, name: str) -> None:
    sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_create(admin_dsn: str, name: str, template: str | None = None) -> None:
    """``name`` afresh (dropped first if it exists), a copy of ``template`` when given."""
    database_drop(admin_dsn, name)
    clause = f' TEMPLATE "{template}"' if template else ""
    sql(admin_dsn, f'CREATE DATABASE "{name}"{clause}')


def migrations_key() -> str:
    """Names the migration set: the project's migration files and every installed package's
    version (third-party migrations come with them)."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        digest.update(dist.encode())
    return digest.hexdigest()[:12]


# Any int8 names the lock; this one is only ever taken here.
_TEMPLATES_LOCK = 7_301_415_926


@contextmanager
def templates_locked(admin_dsn: str) -> Iterator[None]:
    """Holds a server-wide advisory lock while the caller builds or copies a template: parallel
    processes (pytest-xdist workers) wait for the first one's build instead of migrating too, and
    none copies a template half built. Ended with the session, so a crash releases it."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATES_LOCK,))
        yield


def template_ensure(admin_dsn: str, prefix: str, migrate: Callable[[str], None]) -> tuple[str, bool]:
    """The database ``<prefix><migrations_key()>``, migrated to the current migration set and kept
    between runs; returns its name and whether it was built now. Built by ``migrate(name)`` on an
    empty database under a temporary name, renamed when complete; templates of other migration
    sets (the same prefix) are dropped."""
    template = f"{prefix}{migrations_key()}"
    names = [row[0] for row in sql(admin_dsn, "SELECT datname FROM pg_database")]
    for name in names:
        if name.startswith(prefix) and name not in {template, f"{prefix}building"}:
            database_drop(admin_dsn, name)
    if template in names:
        return template, False
    building = f"{prefix}building"  # dropped and made afresh by the next build if one fails half-way
    database_create(admin_dsn, building)
    try:
        migrate(building)
    except BaseException:
        database_drop(admin_dsn, building)
        raise
    sql(admin_dsn, f'ALTER DATABASE "{building}" RENAME TO "{template}"')
    return template, True
