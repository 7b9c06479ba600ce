"""The billing page costs the same number of queries with one invoice and with many (issue 16)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
