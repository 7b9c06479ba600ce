"""Idempotency-Key on the API's writes, as a client sees it (status, body, headers) and as the
database keeps it (one post for one key)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD
from idempotency.models import IdempotencyRecord
from integrations.tests.conftest import reauthenticate_api
from integrations.tests.factories import bearer, issue_key
from social.models import Post
from social.tests.factories import make_post, png_upload

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def keyed(key: str) -> dict[str, dict[str, str]]:
    return {"headers": {"Idempotency-Key": key}}


def new_key() -> str:
    return str(uuid.uuid4())


def test_a_post_sent_twice_with_one_key_is_made_once_and_the_answer_replayed(user):
    client, key = signed_in(user), new_key()
    first = client.post("/api/v1/posts/", {"text": "only once"}, format="json", **keyed(key))
    again = client.post("/api/v1/posts/", {"text": "only once"}, format="json", **keyed(key))

    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert Post.objects.filter(author=user, text="only once").count() == 1
    # The replay still passes through the outer middleware: a signed-in answer is not cached.
    assert "no-store" in again["Cache-Control"]


def test_posts_without_a_key_or_with_two_keys_are_two_posts(user):
    client = signed_in(user)
    client.post("/api/v1/posts/", {"text": "twice"}, format="json")
    client.post("/api/v1/posts/", {"text": "twice"}, format="json")
    client.post("/api/v1/posts/", {"text": "twice"}, format="json", **keyed(new_key()))
    client.post("/api/v1/posts/", {"text": "twice"}, format="json", **keyed(new_key()))
    assert Post.objects.filter(author=user, text="twice").count() == 4


def test_a_patch_replayed_is_the_first_answer_and_is_not_applied_again(user):
    post = make_post(user, "v1")
    client, key = signed_in(user), new_key()
    first = client.patch(f"/api/v1/posts/{post.pk}/", {"text": "v2"}, format="json", **keyed(key))
    assert first.status_code == 200 and first.json()["text"] == "v2"
    client.patch(f"/api/v1/posts/{post.pk}/", {"text": "v3"}, format="json")  # another edit, no key

    replay = client.patch(f"/api/v1/posts/{post.pk}/", {"text": "v2"}, format="json", **keyed(key))
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["text"] == "v2"
    post.refresh_from_db()
    assert post.text == "v3"  # the replay did not edit the post back


def test_a_delete_replayed_answers_204_again_not_404(user):
    post = make_post(user)
    client, key = signed_in(user), new_key()
    first = client.delete(f"/api/v1/posts/{post.pk}/", **keyed(key))
    assert first.status_code == 204
    replay = client.delete(f"/api/v1/posts/{post.pk}/", **keyed(key))
    assert replay.status_code == 204
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == b""
    assert "Content-Type" not in first and "Content-Type" not in replay
    assert client.delete(f"/api/v1/posts/{post.pk}/").status_code == 404  # without the key: gone


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/posts/", {"text": "another text"}),  # another body
        ("post", "/api/v1/posts/?x=1", {"text": "first"}),  # another path (its query)
        # another method (on a route that takes it: a method no route takes is a 405, below)
        ("patch", "/api/v1/me/", {"bio": "first"}),
    ],
)
def test_a_key_reused_for_another_request_is_422_and_does_nothing(user, method, path, body):
    client, key = signed_in(user), new_key()
    assert client.post("/api/v1/posts/", {"text": "first"}, format="json", **keyed(key)).status_code == 201

    response = getattr(client, method)(path, body, format="json", **keyed(key))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert set(error) >= {"code", "message", "fields"}
    assert "Idempotent-Replayed" not in response
    assert Post.objects.filter(author=user).count() == 1


def test_the_same_key_from_another_user_is_theirs_alone(user, other_user):
    key = new_key()
    mine = signed_in(user).post("/api/v1/posts/", {"text": "same key"}, format="json", **keyed(key))
    theirs = signed_in(other_user).post("/api/v1/posts/", {"text": "same key"}, format="json", **keyed(key))
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["author"]["handle"] == other_user.handle
    assert Post.objects.filter(text="same key").count() == 2


def test_an_api_key_request_is_replayed_and_the_key_is_looked_up_once_per_request(user):
    token = issue_key(user, scopes=["posts:write", "posts:read"]).token
    client, key = APIClient(), new_key()
    with CaptureQueriesContext(connection) as queries:
        first = client.post(
            "/api/v1/posts/", {"text": "by key"}, format="json", **keyed(key), **bearer(token)
        )
    lookups = [q["sql"] for q in queries if 'FROM "integrations_apikey"' in q["sql"]]
    assert first.status_code == 201, first.content
    assert len(lookups) == 1  # the middleware's and the view's authentication share it

    replay = client.post("/api/v1/posts/", {"text": "by key"}, format="json", **keyed(key), **bearer(token))
    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert Post.objects.filter(author=user, text="by key").count() == 1
    # The same user's session shares the key: it is the user's, whichever way they sign in.
    session = signed_in(user).post("/api/v1/posts/", {"text": "by key"}, format="json", **keyed(key))
    assert session["Idempotent-Replayed"] == "true"


def test_a_refused_api_key_is_refused_with_a_key_as_without(user):
    client = APIClient()
    response = client.post(
        "/api/v1/posts/", {"text": "x"}, format="json", **keyed(new_key()), **bearer("relay_test_nope")
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "malformed_api_key"
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_400_and_nothing_is_done(user, key):
    response = signed_in(user).post("/api/v1/posts/", {"text": "no"}, format="json", **keyed(key))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Post.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(user):
    key = "k" * 254 + "~"
    response = signed_in(user).post("/api/v1/posts/", {"text": "long key"}, format="json", **keyed(key))
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get().key == key


def test_a_refusal_4xx_is_stored_and_replayed(user):
    client, key = signed_in(user), new_key()
    first = client.post("/api/v1/posts/", {"text": ""}, format="json", **keyed(key))
    assert first.status_code == 400
    replay = client.post("/api/v1/posts/", {"text": ""}, format="json", **keyed(key))
    assert replay.status_code == 400
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()


def test_a_429_is_not_stored_and_its_retry_with_the_key_is_done(user, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "1/m"}
    client, key = signed_in(user), new_key()
    assert client.post("/api/v1/posts/", {"text": "first"}, format="json").status_code == 201
    limited = client.post("/api/v1/posts/", {"text": "second"}, format="json", **keyed(key))
    assert limited.status_code == 429
    assert not IdempotencyRecord.objects.exists()

    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "30/m"}
    retried = client.post("/api/v1/posts/", {"text": "second"}, format="json", **keyed(key))
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Post.objects.filter(author=user, text="second").count() == 1


def test_reads_and_pages_ignore_the_header(user):
    client = signed_in(user)
    make_post(user, "seen")
    key = new_key()
    first = client.get("/api/v1/feeds/explore/", **keyed(key))
    second = client.get("/api/v1/feeds/explore/", **keyed(key))
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert not IdempotencyRecord.objects.exists()


def test_an_anonymous_write_is_refused_as_without_a_key_and_not_keyed(db):
    response = APIClient().post("/api/v1/posts/", {"text": "x"}, format="json", **keyed(new_key()))
    assert response.status_code in (401, 403)
    assert not IdempotencyRecord.objects.exists()


def test_a_new_api_key_is_never_stored_in_the_key_table(user):
    client, key = signed_in(user), new_key()
    reauthenticate_api(client)
    created = client.post(
        "/api/v1/api-keys/", {"name": "ci", "scopes": ["posts:read"]}, format="json", **keyed(key)
    )
    assert created.status_code == 201, created.content
    assert created.json()["key"]
    # The full key is shown once and never written down in clear: no record, no replay.
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)  # the user's row is gone when the request commits
def test_deleting_ones_account_with_a_key_answers_204(user):
    client = signed_in(user)
    response = client.delete("/api/v1/me/", {"password": DEFAULT_PASSWORD}, format="json", **keyed(new_key()))
    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=user.pk).exists()
    assert not IdempotencyRecord.objects.exists()


def test_an_expired_key_is_free_again(user, settings):
    client, key = signed_in(user), new_key()
    assert client.post("/api/v1/posts/", {"text": "old"}, format="json", **keyed(key)).status_code == 201
    record = IdempotencyRecord.objects.get()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=record.created_at - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS, seconds=1)
    )
    again = client.post("/api/v1/posts/", {"text": "new"}, format="json", **keyed(key))
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert IdempotencyRecord.objects.get().body_sha256 != record.body_sha256


@pytest.mark.parametrize("memory_limit", [None, 200])
def test_an_upload_is_keyed_whether_it_fits_in_memory_or_not(user, settings, memory_limit):
    """Over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` a multipart body is hashed on its way to a spooled
    file, not refused or read twice: the post keeps its image."""
    if memory_limit is not None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = memory_limit
    client, key = signed_in(user), new_key()

    def send():
        return client.post(
            "/api/v1/posts/",
            {"text": "pics", "images": [png_upload(size=(300, 200))], "alt_texts": ["a"]},
            format="multipart",
            **keyed(key),
        )

    first = send()
    assert first.status_code == 201, first.content
    assert [i["alt_text"] for i in first.json()["images"]] == ["a"]
    replay = send()
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert Post.objects.filter(author=user, text="pics").count() == 1


def test_a_method_or_path_no_route_takes_is_answered_as_without_a_key(user):
    """A 405 or 404 is not the write the key stands for: it is neither refused as a reuse of the
    key, nor replayed, nor does it take the key from the write that follows."""
    client, key = signed_in(user), new_key()
    first = client.post("/api/v1/posts/", {"text": "keyed"}, format="json", **keyed(key))
    assert first.status_code == 201

    wrong_method = client.put("/api/v1/posts/", {"text": "keyed"}, format="json", **keyed(key))
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] != "idempotency_key_reused"
    no_route = client.post("/api/v1/no-such-route/", {}, format="json", **keyed(key))
    assert no_route.status_code == 404

    fresh = new_key()
    assert client.put("/api/v1/posts/", {}, format="json", **keyed(fresh)).status_code == 405
    taken = client.post("/api/v1/posts/", {"text": "after a 405"}, format="json", **keyed(fresh))
    assert taken.status_code == 201
    assert "Idempotent-Replayed" not in taken
    assert IdempotencyRecord.objects.filter(user=user).count() == 2
