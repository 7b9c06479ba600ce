"""The billing page costs the same number of queries with one invoice and with many (issue 16),
and pages the invoices."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import views as billing_views

pytestmark = pytest.mark.django_db


def _billing_page(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/billing/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_billing_page_costs_the_same_with_many_invoices(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    one, one_page = _billing_page(user_api_client)
    for _ in range(3):
        billing.stripe.advance(days=31)
        billing.deliver()
    many, many_page = _billing_page(user_api_client)
    rows = many_page.split('id="inv-h"')[1].count("<tr>") - 1  # less the header row
    assert one_page.split('id="inv-h"')[1].count("<tr>") - 1 == 1
    assert rows == 4
    assert one == many


def _invoice_rows(page: str) -> list[str]:
    section = page.split('id="inv-h"')[1].split("</section>")[0]
    return re.findall(r"<td>(\d{1,2} \w{3} \d{4})</td>", section)


def _older_link(page: str) -> str | None:
    section = page.split('id="inv-h"')[1].split("</section>")[0]
    found = re.search(r'<a href="([^"]+)">Older</a>', section)
    return html.unescape(found.group(1)) if found else None


def test_billing_page_pages_the_invoices_newest_first(billing, user, user_api_client, monkeypatch):
    monkeypatch.setattr(billing_views, "INVOICES_PAGE_SIZE", 3)  # four invoices make two pages
    billing.checkout(user_api_client, "team_monthly")
    one, one_page = _billing_page(user_api_client)
    assert _older_link(one_page) is None
    for _ in range(3):
        billing.stripe.advance(days=31)
        billing.deliver()

    many, first_page = _billing_page(user_api_client)
    older = _older_link(first_page)
    assert older is not None
    second = user_api_client.get(older)

    assert second.status_code == 200
    newest_three, oldest = _invoice_rows(first_page), _invoice_rows(second.content.decode())
    assert len(newest_three) == 3 and len(oldest) == 1
    dates = [datetime.strptime(day, "%d %b %Y").replace(tzinfo=UTC) for day in newest_three + oldest]
    assert dates == sorted(dates, reverse=True)  # newest first, the first invoice last
    assert _older_link(second.content.decode()) is None
    assert ">Newer</a>" in second.content.decode()
    assert one == many  # a page costs the same however many invoices there are


def test_a_tampered_invoice_cursor_is_a_404(user_api_client):
    assert user_api_client.get("/billing/", {"cursor": "not-a-cursor"}).status_code == 404
    assert user_api_client.get("/billing/", {"cursor": "cD1ub3QtYS1kYXRl"}).status_code == 404  # p=not-a-date
