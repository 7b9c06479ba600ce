"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from celery.result import _set_task_join_will_block
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytest_plugins = ["stripe_local.pytest_plugin", "outbox.pytest_plugin"]


# Test databases are copies of one migrated template (production_shape.database), not migrated
# one by one: a migration from empty costs over a minute of CPU here and a full run needs four
# (two xdist workers, in the main and in the browser suite), while PostgreSQL copies a database
# in about a second. The template is named by the migration set, so it is reused across runs
# and rebuilt when a migration or a package changes; ``--create-db`` still gets a fresh copy.
TEST_TEMPLATE_PREFIX = "relay_test_tpl_"


def _admin_dsn(settings_dict) -> str:
    from psycopg.conninfo import make_conninfo

    keys = {"user": "USER", "password": "PASSWORD", "host": "HOST", "port": "PORT"}
    given = {key: settings_dict[name] for key, name in keys.items() if settings_dict.get(name)}
    return make_conninfo(dbname="postgres", **given)


def _migrate_in_process(name: str) -> None:
    """Migrates the empty database ``name`` with this process's own (test) settings, through
    Django's test-database creation, then points the connection back where it was."""
    from django.conf import settings as django_settings
    from django.db import connections

    connection = connections["default"]
    test_settings = connection.settings_dict["TEST"]
    project_database, test_name = connection.settings_dict["NAME"], test_settings.get("NAME")
    test_settings["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=0, serialize=False, keepdb=True)
    finally:
        # The template must have no session open when it is copied.
        connection.close()
        connection.settings_dict["NAME"] = django_settings.DATABASES["default"]["NAME"] = project_database
        test_settings["NAME"] = test_name


def _test_database_copied_from_template(*, fresh: bool) -> None:
    from django.db import connections

    from production_shape.database import database_create, sql, template_ensure, templates_locked

    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    admin = _admin_dsn(connection.settings_dict)
    name = connection.creation._get_test_db_name()
    if not fresh and sql(admin, "SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
        return  # --reuse-db: kept, and brought up to date by setup_databases below
    with templates_locked(admin):
        template, _built = template_ensure(admin, TEST_TEMPLATE_PREFIX, _migrate_in_process)
        database_create(admin, name, template)


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's set-up, with a new test database copied from the template (above)."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        _test_database_copied_from_template(fresh=django_db_createdb or not django_db_keepdb)
        # keepdb: the database exists now, so Django only applies the migrations it lacks (none,
        # for a fresh copy).
        db_cfg = setup_databases(
            verbosity=verbosity,
            interactive=False,
            keepdb=True,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
        )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(db_cfg, verbosity=verbosity)


@pytest.fixture(autouse=True)
def _isolated_state(settings, tmp_path):
    """Each test starts with an empty cache (rate limits, throttles) and its own media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture(autouse=True)
def _celery_join_flag_cleared():
    """Celery keeps "a task is running here, a join would block" in one process-wide flag, set
    and restored around every eager task. Eager tasks run from many threads at once (the webhook
    concurrency tests) can restore it out of order and leave it set, after which every later
    ``.get()`` in that process raises: each test ends with it cleared."""
    yield
    _set_task_join_will_block(False)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user_api_client(user) -> APIClient:
    """An API client signed in with a session, as the SPA is."""
    client = APIClient()
    client.force_login(user)
    return client
