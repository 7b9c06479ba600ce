"""The SPA on another origin may send Idempotency-Key and read Idempotent-Replayed."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
SPA = "https://app.example.com"


def test_a_preflight_allows_the_key_header(settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    response = APIClient().options(
        "/api/v1/posts/",
        headers={
            "Origin": SPA,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, x-csrftoken",
        },
    )
    assert response.status_code == 200
    assert "idempotency-key" in response["Access-Control-Allow-Headers"].lower()


def test_a_replayed_answer_exposes_its_header_to_the_spa(settings, user):
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    client = APIClient()
    client.force_login(user)
    headers = {"Origin": SPA, "Idempotency-Key": "cors-1"}
    client.post("/api/v1/posts/", {"text": "from the spa"}, format="json", headers=headers)
    replay = client.post("/api/v1/posts/", {"text": "from the spa"}, format="json", headers=headers)
    assert replay["Idempotent-Replayed"] == "true"
    exposed = {h.strip().lower() for h in replay["Access-Control-Expose-Headers"].split(",")}
    assert {"idempotent-replayed", "retry-after"} <= exposed
