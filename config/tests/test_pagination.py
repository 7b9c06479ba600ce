"""The cursor pages of the server-rendered lists (config.pagination): one query per page, links
both ways, and a tampered cursor answered as a missing page."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from accounts.models import SecurityEvent
from accounts.selectors.security import security_event_list
from accounts.services.security import login_failure_record
from accounts.tests.factories import UserFactory
from config.pagination import cursor_page

pytestmark = pytest.mark.django_db


def _events(n: int):
    user = UserFactory()
    for _ in range(n):
        login_failure_record(login=user.email, request=None, reason="password")
    return security_event_list(user=user)


def test_pages_walk_every_row_once_newest_first_in_one_query_each(django_assert_num_queries):
    events = _events(5)
    seen: list[SecurityEvent] = []
    url: str | None = "/log/"
    while url is not None:
        with django_assert_num_queries(1):
            page = cursor_page(
                RequestFactory().get(url), events, ordering=("-created_at", "-id"), page_size=2
            )
        seen += page.items
        url = page.next_url
    assert seen == list(events)  # newest first, none twice, none left out
    assert page.previous_url is not None


def test_a_page_presents_its_rows_and_keeps_other_parameters():
    page = cursor_page(
        RequestFactory().get("/log/", {"other": "kept"}),
        _events(3),
        present=lambda rows: [event.kind for event in rows],
        ordering=("-created_at", "-id"),
        page_size=2,
        cursor_param="events",
    )
    assert page.items == ["login_failed", "login_failed"]
    assert page.next_url is not None and "other=kept" in page.next_url and "events=" in page.next_url
    assert page.previous_url is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "cD1ub3QtYS1kYXRl"])  # the latter: p=not-a-date
def test_a_tampered_cursor_is_a_404(cursor):
    with pytest.raises(Http404):
        cursor_page(RequestFactory().get("/log/", {"cursor": cursor}), _events(1), ordering="-created_at")
