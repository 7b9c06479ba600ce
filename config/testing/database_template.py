"""Test databases cloned from one migrated template instead of migrated one by one.

Migrating an empty database through every app's (and dj-stripe's) migrations takes over a
minute on this machine, and a full run needs four test databases: one per xdist worker in the
main suite and again in the browser suite. PostgreSQL copies a database file by file with
``CREATE DATABASE ... TEMPLATE`` in about a second, so the first process to need a database
migrates a template once and every test database is a copy of it.

The template's name carries a hash of everything that decides the schema: every migration file
of the project and the pinned requirements (third-party apps bring migrations of their own). A changed
migration gives a new template (and the old ones are dropped); an unchanged one is reused across
runs, which is safe because the same migrations build the same schema. ``--create-db`` still
means a fresh test database: a new copy, never the previous run's rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

TEMPLATE_PREFIX = "relay_test_template_"
ROOT = Path(__file__).resolve().parent.parent.parent
# One advisory-lock key for "a process is building or copying the template" (any int8 will do).
LOCK_KEY = 7_301_415_926


def schema_fingerprint() -> str:
    """A hash of the project's migration files and its pinned requirements."""
    digest = hashlib.sha256()
    for path in [ROOT / "requirements.txt", *sorted(ROOT.glob("*/migrations/*.py"))]:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _admin_connection(settings_dict: dict[str, Any]) -> psycopg.Connection[Any]:
    """A connection to the server's maintenance database, outside any test database."""
    return psycopg.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def _exists(admin: psycopg.Connection[Any], name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _build_template(name: str, verbosity: int) -> None:
    """Migrates a new database called ``name`` through Django's own test-database creation."""
    connection = connections["default"]
    test_settings = connection.settings_dict["TEST"]
    project_database, target = connection.settings_dict["NAME"], test_settings.get("NAME")
    test_settings["NAME"] = name
    try:
        connection.creation.create_test_db(
            verbosity=verbosity, autoclobber=True, serialize=False, keepdb=False
        )
    finally:
        # create_test_db points the connection (and settings) at the new database; the template
        # must have no session open before it is copied, and the caller's database is the copy.
        connection.close()
        connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = project_database
        test_settings["NAME"] = target


def has_test_database() -> bool:
    """Whether the default alias's test database is already there (``--reuse-db``)."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return False
    with _admin_connection(connection.settings_dict) as admin:
        return _exists(admin, connection.creation._get_test_db_name())


def clone_test_database(*, verbosity: int = 0) -> None:
    """Makes the default alias's test database a fresh copy of the migrated template."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return  # SQLite test databases are in memory and built in a moment
    settings_dict = connection.settings_dict
    target = connection.creation._get_test_db_name()
    template = TEMPLATE_PREFIX + schema_fingerprint()
    with _admin_connection(settings_dict) as admin:
        # Held across build and copy: the other worker waits here instead of migrating too,
        # and nobody copies a template half built.
        admin.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        try:
            if not _exists(admin, template):
                stale = admin.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", [TEMPLATE_PREFIX + "%"]
                ).fetchall()
                for (old,) in stale:
                    admin.execute(f"DROP DATABASE IF EXISTS {_quoted(old)} WITH (FORCE)")
                _build_template(template, verbosity)
            admin.execute(f"DROP DATABASE IF EXISTS {_quoted(target)} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {_quoted(target)} TEMPLATE {_quoted(template)}")
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
