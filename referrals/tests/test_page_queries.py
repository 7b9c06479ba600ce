"""The referrals page costs the same number of queries with few referred people and rewards
and with many (issue 16), and shows them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from referrals.rewards import referral_conversion_record
from referrals.tests.factories import make_referral

pytestmark = pytest.mark.django_db


def _page(n: int) -> tuple[int, str]:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    client.get("/settings/referrals/")  # the first visit makes the code and records the device
    for _ in range(n):
        referral = make_referral(referrer=user)
        referral_conversion_record(referred=referral.referred, invoice_id=f"in_{referral.pk}")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/settings/referrals/")
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_referrals_page_costs_the_same_with_many_referred_people_and_rewards():
    few, few_page = _page(1)
    many, many_page = _page(8)
    assert len(many_page) > len(few_page) + 500  # the longer lists are on the page
    assert few == many
