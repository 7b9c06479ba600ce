"""Answers to signed-in requests are kept out of shared and browser caches."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/settings/profile/", "/notifications/", "/settings/api-keys/", "/"])
def test_pages_for_a_signed_in_user_send_no_store(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200, path
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_api_answers_to_a_signed_in_user_send_no_store(user_api_client):
    response = user_api_client.get("/api/v1/notifications/")
    assert "no-store" in response["Cache-Control"]


def test_public_pages_for_visitors_stay_cacheable(client):
    assert "no-store" not in client.get("/explore/").get("Cache-Control", "")
