"""A PostgreSQL connection killed mid-request (real pg_terminate_backend from a second
connection): a read is retried once, anything else is a 503 with Retry-After."""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from django.db import close_old_connections, connection

from accounts.tests.factories import UserFactory
from social.models import Post


def terminate_backend(db, *, wait: bool = False) -> None:
    """Terminates the connection of ``db`` (a Django connection), from a second connection (as a
    DBA would); ``wait`` returns only once the server process is gone (its socket closed)."""
    pid = db.connection.info.backend_pid
    settings = db.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres"
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, %s)", [pid, 5000 if wait else 0])


def terminate_backend_of(context) -> None:
    """Terminates the connection running this query (an execute wrapper's ``context``)."""
    terminate_backend(context["connection"])


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


# --- A connection that ended between requests, and the signed-in request's first query ---------
# Django's test client skips the request_started signal's close_old_connections, which is what
# arms the health check before a server's every request; these tests send it as a server does.


def _as_a_server_request(client, method: str, path: str, **kwargs):
    close_old_connections()  # request_started: the next request's first query is health-checked
    return getattr(client, method)(path, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_get_after_the_connection_ended_between_requests_answers_200(client):
    user = UserFactory()
    client.force_login(user)
    assert _as_a_server_request(client, "get", "/api/v1/me/").status_code == 200
    ended = connection.connection.info.backend_pid
    terminate_backend(connection, wait=True)
    response = _as_a_server_request(client, "get", "/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["handle"] == user.handle
    assert connection.connection.info.backend_pid != ended


@pytest.mark.django_db(transaction=True)
def test_a_write_after_the_connection_ended_between_requests_is_done_not_503(client):
    # Its first query is the view's (the sign-in form reads the account): no retry reaches it,
    # so only the health check before it keeps this from a 503.
    from accounts.tests.factories import DEFAULT_PASSWORD

    user = UserFactory()
    assert _as_a_server_request(client, "get", "/accounts/login/").status_code == 200
    connection.ensure_connection()
    terminate_backend(connection, wait=True)
    response = _as_a_server_request(
        client, "post", "/accounts/login/", data={"login": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert _as_a_server_request(client, "get", "/api/v1/me/").json()["handle"] == user.handle


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_reused_without_a_select_1_round_trip(client):
    client.force_login(UserFactory())
    assert _as_a_server_request(client, "get", "/api/v1/me/").status_code == 200
    sent: list[str] = []
    raw = connection.connection
    base_cursor = raw.cursor_factory

    class Recording(base_cursor):  # what this connection sends the server, health check included
        def execute(self, query, *args, **kwargs):
            sent.append(str(query))
            return super().execute(query, *args, **kwargs)

    raw.cursor_factory = Recording
    try:
        assert _as_a_server_request(client, "get", "/api/v1/me/").status_code == 200
    finally:
        raw.cursor_factory = base_cursor
    assert sent, "the request reached the database through this connection"
    assert "SELECT 1" not in sent


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("method", "path", "status"), [("get", "/api/v1/me/", 200), ("post", "/api/v1/posts/", 201)]
)
def test_a_signed_in_request_whose_user_row_read_loses_the_connection_is_answered(
    client, method, path, status
):
    # After the health check, at the request's first query (the session's user, read by a
    # middleware where no view retry reaches): read again on a fresh connection, any method.
    user = UserFactory()
    client.force_login(user)
    with backend_killed_at_first_query_touching('FROM "accounts_user"') as fired:
        response = (
            getattr(client, method)(
                path, {"text": "after a lost connection"}, content_type="application/json"
            )
            if method == "post"
            else client.get(path)
        )
    assert fired
    assert response.status_code == status
    if method == "post":
        assert Post.objects.filter(author=user, text="after a lost connection").count() == 1
