"""The account settings pages that list rows cost the same number of queries with few rows and
with many (issue 16), and show the rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services.security import login_failure_record
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries), response.content.decode()


def _security_log(n: int) -> tuple[int, str]:
    user = UserFactory()
    for _ in range(n):
        login_failure_record(login=user.email, request=None, reason="password")
    client = Client()
    client.force_login(user)
    return _get(client, "/settings/security/")


def test_security_log_costs_the_same_with_many_events_and_pages_them():
    few, few_page = _security_log(1)
    many, many_page = _security_log(30)
    assert few_page.count("wrong password") == 1
    assert many_page.count("wrong password") == 25  # one page; the rest behind "Older"
    assert "?page=2" in many_page
    assert few == many


def _sessions(n: int) -> tuple[int, str]:
    user = UserFactory()
    for i in range(n):
        other = Client(HTTP_USER_AGENT=f"Device {i}", REMOTE_ADDR=f"10.0.0.{i + 1}")
        other.force_login(user)
        other.get("/settings/profile/")  # allauth records the signed-in session on a request
    client = Client()
    client.force_login(user)
    return _get(client, "/accounts/sessions/")


def test_sessions_page_costs_the_same_with_many_sessions():
    few, few_page = _sessions(1)
    many, many_page = _sessions(8)
    assert few_page.count("Sign out the session from") == 2  # the other one and this one
    assert many_page.count("Sign out the session from") == 9
    assert few == many
