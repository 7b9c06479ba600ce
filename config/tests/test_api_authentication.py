"""Session authentication of the API (config.api.authentication): every unsafe method still
needs the CSRF token; safe methods answer as before; the schema still names ``cookieAuth``."""

from __future__ import annotations

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import Profile

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


@pytest.fixture
def csrf_client(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_answer_without_a_token(csrf_client: APIClient, method: str) -> None:
    assert getattr(csrf_client, method)(ME).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_methods_without_the_token_are_refused_and_change_nothing(
    csrf_client: APIClient, user, method: str
) -> None:
    response = getattr(csrf_client, method)(ME, {"bio": "forged"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]
    assert Profile.objects.get(user=user).bio == ""
    assert type(user).objects.filter(pk=user.pk, is_active=True).exists()


def test_an_unsafe_method_with_the_token_is_done(csrf_client: APIClient, user) -> None:
    token = get_token(RequestFactory().get("/"))
    csrf_client.cookies["csrftoken"] = token
    response = csrf_client.patch(ME, {"bio": "mine"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert Profile.objects.get(user=user).bio == "mine"


def test_the_schema_names_the_session_scheme_on_session_operations(client) -> None:
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["cookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
    }
    assert {"cookieAuth": []} in schema["paths"][ME]["get"]["security"]
