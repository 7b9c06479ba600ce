"""The OpenAPI schema shows the key security scheme and each operation's scope."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_key_scheme_is_a_bearer_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["apiKeyAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"


def test_every_operation_states_its_scope(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            scopes = operation["x-required-scopes"]
            accepts_keys = any("apiKeyAuth" in requirement for requirement in operation.get("security", []))
            assert accepts_keys == bool(scopes), (method, path)
            if scopes:
                assert f"**API key scope:** `{scopes[0]}`" in operation["description"]
            else:
                assert "**API keys:** not accepted" in operation["description"]
            assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)


def test_the_key_endpoints_refuse_keys_in_the_schema(schema):
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/api-keys/"):
            for operation in item.values():
                assert operation["x-required-scopes"] == []
    me = schema["paths"].get("/api/v1/me/")
    if me:  # the accounts API, when present
        assert me["get"]["x-required-scopes"] == ["profile:read"]


def test_the_key_format_example_is_what_this_server_issues(schema, reauthed_api_client):
    issued = reauthed_api_client.post(
        "/api/v1/api-keys/", {"name": "Probe", "scopes": ["posts:read"]}, format="json"
    ).json()["key"]
    description = schema["components"]["securitySchemes"]["apiKeyAuth"]["description"]
    prefix = "_".join(issued.split("_")[:2]) + "_"  # relay_test_ in the tests
    assert f"`{prefix}…`" in description
    assert "relay_live_" not in description


def test_every_status_the_key_routes_answer_is_documented(schema):
    paths = schema["paths"]
    assert {"400", "403", "409"} <= set(paths["/api/v1/api-keys/"]["post"]["responses"])
    assert "404" in paths["/api/v1/api-keys/{public_id}/"]["get"]["responses"]
    assert {"400", "403", "404", "409"} <= set(
        paths["/api/v1/api-keys/{public_id}/rotate/"]["post"]["responses"]
    )
    assert "404" in paths["/api/v1/api-keys/{public_id}/revoke/"]["post"]["responses"]
    assert "delete" not in paths["/api/v1/api-keys/{public_id}/"]  # one revoke route
    for operation in (
        paths["/api/v1/api-keys/"]["post"],
        paths["/api/v1/api-keys/{public_id}/rotate/"]["post"],
    ):
        assert "reauthentication_required" in operation["responses"]["403"]["description"]


def test_the_schema_states_the_structural_rules_the_server_enforces(schema):
    """Found by scripts/fuzz-api: requests the schema admitted and the server refused."""
    create = schema["paths"]["/api/v1/api-keys/"]["post"]["requestBody"]["content"]["application/json"]
    name = create["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][name]["properties"]["scopes"]["minItems"] == 1
    for kind in ("posts", "users", "hashtags"):
        parameters = schema["paths"][f"/api/v1/search/{kind}/"]["get"]["parameters"]
        q = next(p for p in parameters if p["name"] == "q")
        assert (q["schema"]["minLength"], q["schema"]["maxLength"]) == (1, 200)
