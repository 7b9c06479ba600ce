"""The OpenAPI document tells clients about Idempotency-Key on every write under /api/v1/."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/?format=json").json()


def test_every_write_documents_the_key_its_409_and_422_and_the_replay_header(schema):
    writes = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
        if method in WRITES
    ]
    assert len(writes) > 20
    for path, method, operation in writes:
        where = f"{method.upper()} {path}"
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"], where
        responses = operation["responses"]
        assert "idempotency_key_in_progress" in responses["409"]["description"], where
        assert "Retry-After" in responses["409"]["headers"], where
        assert "idempotency_key_reused" in responses["422"]["description"], where
        assert "invalid_idempotency_key" in responses["400"]["description"], where
        for status, response in responses.items():
            headers = response.get("headers", {})
            ours_only = response["description"].startswith(
                ("`idempotency_key_in_progress`", "`idempotency_key_reused`")
            )
            if int(status) >= 500 or status == "429" or ours_only:
                assert "Idempotent-Replayed" not in headers, f"{where} {status}"  # never stored
            else:
                assert "Idempotent-Replayed" in headers, f"{where} {status}"


def test_the_parameter_and_headers_are_components(schema):
    parameter = schema["components"]["parameters"]["IdempotencyKey"]
    assert parameter["name"] == "Idempotency-Key"
    assert parameter["in"] == "header"
    assert parameter["required"] is False
    assert parameter["schema"]["maxLength"] == 255
    assert schema["components"]["headers"]["IdempotentReplayed"]["schema"] == {
        "type": "string",
        "enum": ["true"],
    }


def test_reads_do_not_take_the_key(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "get":
                refs = [p.get("$ref") for p in operation.get("parameters", [])]
                assert "#/components/parameters/IdempotencyKey" not in refs, path
