"""Every API view declares its scopes, keys are held to them, and nothing leaks.

The matrix walks every endpoint under /api/v1/ that exists when the tests run, with every
method it serves, as: anonymous, session user, key without the scope, key with the scope,
expired key, revoked key, key of a deactivated user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIClient

from accounts.services import user_deactivate
from accounts.tests.factories import StaffUserFactory, UserFactory
from config.scopes import SCOPES, RequiredScopes
from integrations.authentication import APIKeyAuthentication
from integrations.services import api_key_revoke
from integrations.tests.factories import bearer, expire_key, issue_key

API_PREFIX = "api/v1/"
# Operations whose view refuses keys itself although its RequiredScopes name a scope. They
# should say so with RequiredScopes(methods={"DELETE": None}) so the schema is right too.
REFUSED_IN_VIEW: set[tuple[str, str]] = set()
WRITE_METHODS = ("post", "put", "patch", "delete")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def api_patterns(urlconf: str | None = None) -> list[tuple[str, URLPattern]]:
    return [
        (route, p) for route, p in _walk(get_resolver(urlconf).url_patterns) if route.startswith(API_PREFIX)
    ]


def view_class(pattern: URLPattern) -> type:
    return getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None) or object


def methods_of(pattern: URLPattern) -> list[str]:
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return sorted(actions)
    cls = view_class(pattern)
    return [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]


def sample_path(route: str) -> str:
    """A concrete URL for a route: path parameters get a value no object has."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "zz9nobody", route)
    samples = {"int": "987654321", "uuid": "00000000-0000-4000-8000-000000000000", "path": "zz9nobody"}
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: samples.get(m.group(1) or "str", "zz9nobody"), path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    return "/" + path


def test_every_api_view_declares_its_required_scopes():
    undeclared = sorted(
        f"{route} -> {view_class(p).__module__}.{view_class(p).__name__}"
        for route, p in api_patterns()
        if not isinstance(getattr(view_class(p), "required_scopes", None), RequiredScopes)
    )
    assert undeclared == [], "API views without required_scopes:\n" + "\n".join(undeclared)


def test_every_api_view_checks_scopes_and_rate_limits_keys():
    """Overriding permission_classes or throttle_classes must keep the key checks."""
    from config.api.permissions import HasRequiredScopes
    from integrations.throttling import ApiKeyRateThrottle

    problems = []
    for route, pattern in api_patterns():
        cls = view_class(pattern)
        if APIKeyAuthentication not in getattr(cls, "authentication_classes", ()):
            continue  # keys are not accepted there at all
        if not any(issubclass(p, HasRequiredScopes) for p in getattr(cls, "permission_classes", ())):
            problems.append(f"{route}: {cls.__name__} lacks HasRequiredScopes")
        if not any(issubclass(t, ApiKeyRateThrottle) for t in getattr(cls, "throttle_classes", ())):
            problems.append(f"{route}: {cls.__name__} lacks ApiKeyRateThrottle")
    assert problems == [], "\n".join(problems)


def test_the_walk_finds_the_api(db):
    routes = [route for route, _ in api_patterns()]
    assert any("api-keys" in r for r in routes)
    assert len(routes) >= 4


# --- The matrix -----------------------------------------------------------------------------------

ENDPOINTS = [
    pytest.param(route, method, id=f"{method.upper()} /{route}")
    for route, pattern in api_patterns()
    for method in methods_of(pattern)
    if APIKeyAuthentication in getattr(view_class(pattern), "authentication_classes", ())
]


def _pattern(route: str) -> URLPattern:
    return dict(api_patterns())[route]


def _call(client: APIClient, method: str, path: str, **headers: str) -> Any:
    kwargs: dict[str, Any] = {"format": "json"} if method in WRITE_METHODS else {}
    return getattr(client, method)(path, {} if method in WRITE_METHODS else None, **kwargs, **headers)


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


def _needs_login(pattern: URLPattern) -> bool:
    return any(issubclass(p, IsAuthenticated) for p in getattr(view_class(pattern), "permission_classes", ()))


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "method"), ENDPOINTS)
def test_key_matrix(route: str, method: str) -> None:
    pattern = _pattern(route)
    path = sample_path(route)
    declared: RequiredScopes = view_class(pattern).required_scopes
    needed = declared.for_method(method)
    owner = StaffUserFactory() if needed == "admin" else UserFactory()
    client = APIClient()

    # Anonymous: a view that needs a login says so in the error shape, and leaks nothing.
    if _needs_login(pattern):
        response = _call(client, method, path)
        assert response.status_code == 401, (response.status_code, response.content)
        assert _error(response)["code"] == "not_authenticated"

    # A session user is never stopped by scopes.
    client.force_login(owner)
    response = _call(client, method, path)
    assert response.status_code < 500, response.content
    if response.status_code in (401, 403):
        assert _error(response)["code"] not in ("missing_scope", "scope_not_allowed")
    client.logout()

    # A key without the scope: 403 naming the scope, or "keys not accepted" when none is declared.
    other_scopes = [s for s in SCOPES if s not in (needed, "admin")] or ["profile:read"]
    without = issue_key(owner, scopes=other_scopes)
    response = _call(client, method, path, **bearer(without.token))
    assert response.status_code == 403, (response.status_code, response.content)
    error = _error(response)
    if needed is None:
        assert error["code"] == "scope_not_allowed"
    else:
        assert error["code"] == "missing_scope"
        assert needed in error["message"]

    if needed is not None:
        # A key with the scope gets past authentication and scopes (to 2xx, 400 or 404...).
        with_scope = issue_key(owner, scopes=[needed], name="With scope")
        response = _call(client, method, path, **bearer(with_scope.token))
        assert response.status_code < 500, response.content
        assert response.status_code != 401, response.content
        if response.status_code == 403 and (route, method) not in REFUSED_IN_VIEW:
            assert _error(response)["code"] not in ("missing_scope", "scope_not_allowed")
        api_key_revoke(api_key=with_scope.api_key)
    api_key_revoke(api_key=without.api_key)

    # Expired, revoked and deactivated-owner keys: 401 with the specific code, on every endpoint.
    scopes = [needed] if needed else ["profile:read"]
    expired = issue_key(owner, scopes=scopes, name="Expired")
    expire_key(expired.api_key)
    response = _call(client, method, path, **bearer(expired.token))
    assert response.status_code == 401
    assert _error(response)["code"] == "expired_api_key"

    revoked = issue_key(owner, scopes=scopes, name="Revoked")
    api_key_revoke(api_key=revoked.api_key)
    response = _call(client, method, path, **bearer(revoked.token))
    assert response.status_code == 401
    assert _error(response)["code"] == "revoked_api_key"

    inactive = issue_key(owner, scopes=scopes, name="Inactive")
    user_deactivate(user=owner, reason="matrix")
    response = _call(client, method, path, **bearer(inactive.token))
    assert response.status_code == 401
    assert _error(response)["code"] == "inactive_user"


@pytest.mark.django_db
@pytest.mark.urls("integrations.tests.urls")
def test_a_view_that_declares_no_scopes_refuses_every_key(user):
    client = APIClient()
    issued = issue_key(user, scopes=[s for s in SCOPES if s != "admin"])
    response = client.get("/api/v1/_probe/undeclared/", **bearer(issued.token))
    assert response.status_code == 403
    assert _error(response)["code"] == "scope_not_allowed"
    client.force_login(user)
    assert client.get("/api/v1/_probe/undeclared/").status_code == 200


@pytest.mark.django_db
@pytest.mark.urls("integrations.tests.urls")
def test_read_and_write_scopes_are_separate(user):
    client = APIClient()
    reader = issue_key(user, scopes=["posts:read"])
    assert client.get("/api/v1/_probe/", **bearer(reader.token)).status_code == 200
    response = client.post("/api/v1/_probe/", {}, format="json", **bearer(reader.token))
    assert response.status_code == 403
    assert _error(response) == {
        "code": "missing_scope",
        "message": "This API key needs the 'posts:write' scope for this operation.",
        "fields": {},
    }
    writer = issue_key(user, scopes=["posts:write"], name="Writer")
    assert client.post("/api/v1/_probe/", {}, format="json", **bearer(writer.token)).status_code == 201
    # Keys are not subject to CSRF: they are not ambient credentials.
    assert client.get("/api/v1/_probe/", **bearer(writer.token)).status_code == 403


def test_a_method_can_refuse_keys_while_its_siblings_need_a_scope():
    declared = RequiredScopes(read="profile:read", write="profile:write", methods={"DELETE": None})
    assert declared.for_method("get") == "profile:read"
    assert declared.for_method("PATCH") == "profile:write"
    assert declared.for_method("delete") is None
    with pytest.raises(ValueError, match="Unknown scope"):
        RequiredScopes(read="posts:read", methods={"POST": "posts:delete"})
