"""The referrals page costs the same number of queries with few referred people and rewards
and with many (issue 16), and shows them."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from referrals.rewards import referral_conversion_record
from referrals.tests.factories import make_referral
from referrals.views import REFERRED_PAGE_SIZE, REWARDS_PAGE_SIZE

pytestmark = pytest.mark.django_db


def _page(n: int) -> tuple[int, str, Client]:
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
    return len(ctx.captured_queries), response.content.decode(), client


def _section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"')[1].split("</section>")[0]


def _people(page: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]+)</td>", _section(page, "ref-people-heading"))


def _reward_count(page: str) -> int:
    return _section(page, "ref-rewards-heading").count("<tr>") - 1  # less the header row


def _older(page: str, heading_id: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">Older</a>', _section(page, heading_id))
    return html.unescape(found.group(1)) if found else None


def test_referrals_page_costs_the_same_with_many_referred_people_and_rewards():
    few, few_page, _ = _page(1)
    many, many_page, _ = _page(max(REFERRED_PAGE_SIZE, REWARDS_PAGE_SIZE) + 2)  # past a page of each
    assert len(many_page) > len(few_page) + 500  # the longer lists are on the page
    assert few == many


def test_referrals_page_pages_the_rewards_and_the_people_each_by_its_own_link():
    total = max(REFERRED_PAGE_SIZE, REWARDS_PAGE_SIZE) + 2
    _, first, client = _page(total)
    assert _reward_count(first) == REWARDS_PAGE_SIZE
    assert len(_people(first)) == REFERRED_PAGE_SIZE
    rewards_link = _older(first, "ref-rewards-heading")
    assert rewards_link is not None

    older_rewards = client.get(rewards_link)
    assert older_rewards.status_code == 200
    older_rewards_page = older_rewards.content.decode()
    assert _reward_count(older_rewards_page) == total - REWARDS_PAGE_SIZE
    assert _older(older_rewards_page, "ref-rewards-heading") is None
    assert ">Newer</a>" in _section(older_rewards_page, "ref-rewards-heading")
    assert _people(older_rewards_page) == _people(first)  # the other list stays where it was

    people_link = _older(older_rewards_page, "ref-people-heading")
    assert people_link is not None
    both_older = client.get(people_link).content.decode()
    assert len(_people(both_older)) == total - REFERRED_PAGE_SIZE  # the two oldest (masked alike)
    assert _reward_count(both_older) == total - REWARDS_PAGE_SIZE  # its link kept the rewards' cursor


@pytest.mark.parametrize("param", ["rewards", "people"])
def test_a_tampered_cursor_on_the_referrals_page_is_a_404(param):
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/settings/referrals/", {param: "not-a-cursor"}).status_code == 404
