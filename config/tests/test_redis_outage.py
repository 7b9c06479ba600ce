"""Redis down does not take signed-in pages down: a real redis-server is stopped and restarted."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from config import cache as resilient_cache
from config import celery as resilient_celery
from config.celery import app as celery_app
from production_shape.services import RedisProcess
from social.models import Post, TimelineEntry
from social.services import follow_create


@pytest.fixture
def own_redis(settings):
    server = RedisProcess()
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "platform-outage",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    saved = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = url
    _forget_broker_connections()
    try:
        yield server
    finally:
        server.stop()
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = saved
        _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Celery keeps its connection and producer pools, and the resilient dispatch its "broker is
    down" pause, in process memory: an earlier test that published must not decide where (or
    whether) this one's tasks go."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    resilient_celery._broker.retry_at = 0.0
    resilient_celery._broker.down = False


def _wait_past_retry_pause() -> None:
    time.sleep(max(resilient_cache.RETRY_SECONDS, resilient_celery.BROKER_RETRY_SECONDS) + 0.2)


@pytest.mark.django_db(transaction=True)
def test_signed_in_users_keep_reading_and_posting_while_redis_is_down(own_redis, client, caplog):
    from django.test import Client

    author = UserFactory()
    follower = UserFactory()
    follow_create(follower=follower, followee=author)
    assert (
        client.post("/accounts/login/", {"login": author.email, "password": DEFAULT_PASSWORD}).status_code
        == 302
    )
    assert client.get("/").status_code == 200
    response = client.post("/api/v1/posts/", {"text": "before the outage"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert own_redis.queued() >= 1  # the fan-out went to the broker

    own_redis.stop()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="relay.access"):
        assert client.get("/").status_code == 200
        assert client.get("/explore/").status_code == 200
        assert client.get(f"/@{author.handle}").status_code == 200
        response = client.post(
            "/api/v1/posts/", {"text": "during the outage"}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        post = Post.objects.get(text="during the outage")
        # The broker could not take the fan-out: it ran inline.
        assert TimelineEntry.objects.filter(owner=follower, post=post).exists()
        fresh = Client()
        login = fresh.post("/accounts/login/", {"login": follower.email, "password": DEFAULT_PASSWORD})
        assert login.status_code == 302
        assert fresh.get("/").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "degraded"
    access_lines = [r for r in caplog.records if r.name == "relay.access"]
    assert len(access_lines) == 7  # one per request, none lost

    own_redis.start()
    _wait_past_retry_pause()
    assert client.get("/").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"
    response = client.post("/api/v1/posts/", {"text": "after the outage"}, content_type="application/json")
    assert response.status_code == 201
    assert own_redis.queued() >= 1  # queued again, not inline
    assert not TimelineEntry.objects.filter(owner=follower, post__text="after the outage").exists()


@pytest.mark.django_db(transaction=True)
def test_a_session_ended_during_the_outage_is_not_revived_by_redis_afterwards(own_redis, client):
    user = UserFactory()
    assert (
        client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD}).status_code
        == 302
    )
    assert client.get("/settings/profile/").status_code == 200  # the session is now cached in Redis too
    os.kill(own_redis.process.pid, signal.SIGSTOP)  # unreachable, but keeps its data
    try:
        assert client.post("/accounts/logout/").status_code == 302
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    _wait_past_retry_pause()
    response = client.get("/settings/profile/")
    assert response.status_code == 302  # signed out for good: sent to the login page


@pytest.mark.django_db(transaction=True)
def test_a_task_run_inline_after_the_database_dropped_the_connection_runs_on_a_fresh_one():
    """Broker down, and PostgreSQL dropped this process's connection (a restart, a failover):
    the task run inline instead of queued must not fail on the dead connection and be lost."""
    import psycopg
    from django.db import connection

    from social.services import post_create
    from social.tasks import timeline_fan_out_post

    author, follower = UserFactory(), UserFactory()
    follow_create(follower=follower, followee=author)
    post = post_create(author=author, text="fanned out inline")
    TimelineEntry.objects.filter(post=post).delete()
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    resilient_celery._broker.retry_at = time.monotonic() + 60  # the broker is down: run inline
    try:
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        timeline_fan_out_post.delay(post.pk)
    finally:
        celery_app.conf.task_always_eager = saved
        _forget_broker_connections()
    assert TimelineEntry.objects.filter(owner=follower, post=post).exists()
