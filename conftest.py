"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest
from celery.result import _set_task_join_will_block
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytest_plugins = ["stripe_local.pytest_plugin", "outbox.pytest_plugin"]


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
