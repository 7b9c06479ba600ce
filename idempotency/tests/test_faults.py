"""Keyed writes against real faults: two requests with one key at once (a connection each),
and a PostgreSQL connection terminated (``pg_terminate_backend``, from a second connection)
inside the view, before the commit and after it."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.models import User
from config.tests.test_database_faults import backend_killed_at_first_query_touching, terminate_backend_of
from idempotency.models import IdempotencyRecord
from social.models import Post

pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 20  # seconds a test waits for the other thread before failing


def signed_in(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def post(client: APIClient, key: str, text: str = "only once"):
    return client.post("/api/v1/posts/", {"text": text}, format="json", headers={"Idempotency-Key": key})


def is_insert_into(sql: str, table: str) -> bool:
    return sql.lstrip().upper().startswith("INSERT") and f'"{table}"' in sql


def test_two_requests_with_one_key_at_once_make_one_post_and_the_second_is_told_to_wait(user):
    key = str(uuid.uuid4())
    # Two sessions of the user (two tabs), signed in before either request starts.
    first_client, second_client = signed_in(user), signed_in(user)
    inserting, release = threading.Event(), threading.Event()
    answers: dict[str, object] = {}

    def first() -> None:
        # This thread's own database connection; the request stops inside its transaction,
        # right after inserting the post, until the second request has been answered.
        def hold(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if is_insert_into(sql, "social_post"):
                inserting.set()
                release.wait(WAIT)
            return result

        try:
            with connection.execute_wrapper(hold):
                answers["first"] = post(first_client, key)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inserting.wait(WAIT), "the first request never reached its insert"
        second = post(second_client, key)
    finally:
        release.set()
        thread.join(WAIT)

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_key_in_progress"
    assert second["Retry-After"] == "1"
    assert answers["first"].status_code == 201  # type: ignore[attr-defined]
    assert Post.objects.filter(author=user, text="only once").count() == 1

    third = post(second_client, key)  # the second tab's retry after Retry-After
    assert third.status_code == 201
    assert third["Idempotent-Replayed"] == "true"
    assert third.content == answers["first"].content  # type: ignore[attr-defined]
    assert Post.objects.filter(author=user, text="only once").count() == 1


def test_a_commit_whose_connection_drops_after_it_succeeded_is_replayed_on_retry(user):
    """The commit reached PostgreSQL, then the connection was gone before the answer left: the
    client saw a 503, as when a COMMIT's acknowledgement is lost. Its retry with the key gets
    the 201 that stands, and there is one post."""
    client, key = signed_in(user), str(uuid.uuid4())
    client.raise_request_exception = False
    dropped = []

    def drop_after_commit(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if is_insert_into(sql, "idempotency_idempotencyrecord") and not dropped:
            dropped.append(sql)

            def terminate_then_use() -> None:
                terminate_backend_of(context)
                with connection.cursor() as cursor:  # the next use of the connection fails
                    cursor.execute("SELECT 1")

            # Runs right after the commit succeeded (the last statement of the transaction is
            # this insert, so every other commit hook of the request has been registered).
            transaction.on_commit(terminate_then_use)
        return result

    with connection.execute_wrapper(drop_after_commit):
        lost = post(client, key)
    assert dropped
    assert lost.status_code == 503
    assert lost.json()["error"]["code"] == "unavailable"
    assert Post.objects.filter(author=user, text="only once").count() == 1

    retry = post(client, key)
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["text"] == "only once"
    assert retry.json()["id"] == Post.objects.get(author=user).pk
    assert Post.objects.filter(author=user, text="only once").count() == 1


def test_a_commit_that_fails_keeps_neither_the_post_nor_the_key_and_the_retry_posts_once(user):
    client, key = signed_in(user), str(uuid.uuid4())
    client.raise_request_exception = False
    with backend_killed_at_first_query_touching('INSERT INTO "idempotency_idempotencyrecord"') as fired:
        lost = post(client, key)
    assert fired
    assert lost.status_code == 503
    assert lost["Retry-After"] == "2"
    assert not Post.objects.filter(author=user).exists()
    assert not IdempotencyRecord.objects.exists()

    retry = post(client, key)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Post.objects.filter(author=user, text="only once").count() == 1


def test_a_503_inside_the_view_is_not_stored_and_rolls_the_write_back(user):
    """The connection drops while the view reads its answer, after the post's insert: under a
    key that insert has not committed, so the 503 leaves nothing and the retry posts once."""
    client, key = signed_in(user), str(uuid.uuid4())
    seen_insert, kills = [], []

    def killer(execute, sql, params, many, context):
        if is_insert_into(sql, "social_post"):
            seen_insert.append(sql)
        elif seen_insert and not kills and sql.lstrip().upper().startswith("SELECT") and "social_post" in sql:
            kills.append(sql)
            terminate_backend_of(context)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(killer):
        lost = post(client, key)
    assert kills
    assert lost.status_code == 503
    assert not Post.objects.filter(author=user).exists()
    assert not IdempotencyRecord.objects.exists()

    retry = post(client, key)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Post.objects.filter(author=user, text="only once").count() == 1
