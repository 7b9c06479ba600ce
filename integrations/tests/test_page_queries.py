"""The API keys page costs the same number of queries with few keys and with many (issue 16)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from integrations.services import api_key_issue, api_key_revoke

pytestmark = pytest.mark.django_db


def _page(n: int, url: str = "/settings/api-keys/") -> tuple[int, str]:
    user = UserFactory()
    for i in range(n):
        issued = api_key_issue(user=user, name=f"script {i}", scopes=["posts:read"])
        api_key_revoke(api_key=issued.api_key, actor=user)  # revoked keys stay listed
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_api_keys_page_costs_the_same_with_many_keys():
    few, few_page = _page(1)
    many, many_page = _page(10)
    assert few_page.count('<tr id="key-') == 1
    assert many_page.count('<tr id="key-') >= 10
    assert few == many


def test_api_keys_page_is_paged():
    _, first = _page(27)
    assert first.count('<tr id="key-') == 25
    assert "script 26" in first and "script 1<" not in first  # newest first
    assert '?page=2">Older' in first
    _, second = _page(27, "/settings/api-keys/?page=2")
    assert second.count('<tr id="key-') == 2
    assert "script 1<" in second and "script 0<" in second
