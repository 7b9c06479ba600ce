"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from celery.result import _set_task_join_will_block
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from config.testing.database_template import clone_test_database, has_test_database

pytest_plugins = ["stripe_local.pytest_plugin", "outbox.pytest_plugin"]


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's database set-up, with each new test database a copy of one migrated
    template (config/testing/database_template.py) rather than migrated on its own. A reused
    database (``--reuse-db`` without ``--create-db``) is kept as it is and brought up to date."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        if django_db_createdb or not django_db_keepdb or not has_test_database():
            clone_test_database(verbosity=verbosity)
        # keepdb: the copy (or the reused database) exists, so Django only runs the migrations
        # it lacks (none, for a fresh copy).
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
