"""A PostgreSQL connection killed mid-request (real pg_terminate_backend from a second
connection): a read is retried once, anything else is a 503 with Retry-After."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from social.models import Post


def terminate_backend_of(context) -> None:
    """Terminates the connection running this query, from a second connection (as a DBA would)."""
    pid = context["connection"].connection.info.backend_pid
    settings = context["connection"].settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres"
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@contextmanager
def backend_killed_at_first_query_touching(table: str):
    """Terminates this process's database connection, from another connection, right before the
    first query of the request that reads ``table``."""
    fired = []

    def killer(execute, sql, params, many, context):
        if not fired and table in sql:
            fired.append(sql)
            terminate_backend_of(context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(killer):
        yield fired


@pytest.mark.django_db(transaction=True)
def test_a_read_whose_connection_is_killed_is_retried_and_answers(client):
    user = UserFactory()
    client.force_login(user)
    with backend_killed_at_first_query_touching("social_post") as fired:
        response = client.get("/api/v1/feeds/explore/")
    assert fired
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_write_whose_connection_is_killed_answers_503_with_retry_after(client):
    user = UserFactory()
    client.force_login(user)
    with backend_killed_at_first_query_touching("social_post") as fired:
        response = client.post("/api/v1/posts/", {"text": "hello"}, content_type="application/json")
    assert fired
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_page_whose_connection_is_killed_twice_answers_a_503_page(client):
    client.force_login(UserFactory())
    client.raise_request_exception = False
    kills = []

    def killer(execute, sql, params, many, context):
        if "social_post" in sql and len(kills) < 2:
            kills.append(sql)
            terminate_backend_of(context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(killer):
        response = client.get("/explore/")
    assert len(kills) == 2
    assert response.status_code == 503
    assert response["Retry-After"] == "2"


@pytest.mark.django_db(transaction=True)
def test_a_session_save_whose_connection_is_killed_answers_503_not_400(client):
    """Django turns any database error while saving a session into ``SessionInterrupted`` (400,
    "the request could not be understood"): a dropped connection is a 503 with a retry hint."""
    from accounts.tests.factories import DEFAULT_PASSWORD

    user = UserFactory()
    with backend_killed_at_first_query_touching('UPDATE "django_session"') as fired:
        response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert fired
    assert response.status_code == 503
    assert response["Retry-After"] == "2"


@pytest.mark.django_db(transaction=True)
def test_a_post_whose_connection_is_killed_after_it_committed_answers_201_and_is_stored_once(client):
    # The answer is read after the post committed: a 503 there would make the client post twice.
    user = UserFactory()
    client.force_login(user)
    seen_insert, kills = [], []

    def killer(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and "social_post" in sql:
            seen_insert.append(sql)
        elif seen_insert and not kills and sql.lstrip().upper().startswith("SELECT") and "social_post" in sql:
            kills.append(sql)
            terminate_backend_of(context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(killer):
        response = client.post("/api/v1/posts/", {"text": "only once"}, content_type="application/json")
    assert kills
    assert response.status_code == 201
    assert response.json()["text"] == "only once"
    assert Post.objects.filter(author=user, text="only once").count() == 1
