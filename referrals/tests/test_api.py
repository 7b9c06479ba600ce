"""The referrals API: five routes, scopes, error shape and constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from referrals.models import Referral
from referrals.rewards import referral_conversion_record
from referrals.services import referral_click_record
from referrals.tests.factories import make_referral, referrer_code

pytestmark = pytest.mark.django_db


def _error(response):
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_anonymous_is_refused(api_client):
    for route in ("", "code/", "stats/", "rewards/"):
        response = api_client.get(f"/api/v1/referrals/{route}")
        assert response.status_code in (401, 403)
        _error(response)


def test_code(user_api_client, user):
    body = user_api_client.get("/api/v1/referrals/code/").json()
    assert body["code"] == referrer_code(user)
    assert body["url"].endswith(f"/r/{body['code']}")
    assert body["code"] in body["share_text"]


def test_list_shows_masked_users_with_status(user_api_client, user):
    referred = UserFactory(email="carol.smith@example.com")
    make_referral(referrer=user, referred=referred)
    make_referral(referrer=UserFactory())  # someone else's
    body = user_api_client.get("/api/v1/referrals/").json()
    assert len(body["results"]) == 1
    row = body["results"][0]
    assert row["user"] == "ca***@e***.com"
    assert row["status"] == "signed_up"
    assert "carol" not in str(body)


def test_list_statuses(user_api_client, user):
    converted = make_referral(referrer=user)
    referral_conversion_record(referred=converted.referred, invoice_id="in_1")
    flagged = make_referral(referrer=user, referred=UserFactory(email="z@yopmail.com"))
    assert flagged.status == "flagged"
    statuses = {r["status"] for r in user_api_client.get("/api/v1/referrals/").json()["results"]}
    assert statuses == {"converted", "flagged"}


def test_stats(user_api_client, user):
    referral_click_record(code=referrer_code(user), visitor=None, ip_hash="", device_hash="")
    referral = make_referral(referrer=user)
    referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    body = user_api_client.get("/api/v1/referrals/stats/").json()
    assert body == {
        "clicks": 1,
        "signups": 1,
        "conversions": 1,
        "credit_earned_cents": 0,
        "credit_pending_cents": 500,
    }


def test_rewards_ledger(user_api_client, user):
    referral = make_referral(referrer=user, referred=UserFactory(email="dan@example.net"))
    referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    body = user_api_client.get("/api/v1/referrals/rewards/").json()
    assert len(body["results"]) == 1
    row = body["results"][0]
    assert (row["status"], row["amount_cents"], row["referred_user"]) == ("pending", 500, "da***@e***.net")


def test_apply(user_api_client, user, other_user):
    response = user_api_client.post("/api/v1/referrals/apply/", {"code": referrer_code(other_user).lower()})
    assert response.status_code == 201
    assert response.json()["referrer"] == f"@{other_user.handle}"
    assert Referral.objects.get(referred=user).referrer == other_user


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("missing", 400, "invalid"),
        ("unknown", 400, "unknown_code"),
        ("own", 400, "self_referral"),
        ("second", 409, "already_referred"),
        ("late", 400, "apply_window_closed"),
    ],
)
def test_apply_errors(user_api_client, user, other_user, case, status, code):
    payload = {"code": referrer_code(other_user)}
    if case == "missing":
        payload = {}
    elif case == "unknown":
        payload = {"code": "NOPE2345"}
    elif case == "own":
        payload = {"code": referrer_code(user)}
    elif case == "second":
        make_referral(referrer=UserFactory(), referred=user)
    elif case == "late":
        user.date_joined = timezone.now() - timedelta(days=15)
        user.save()
    response = user_api_client.post("/api/v1/referrals/apply/", payload)
    assert response.status_code == status
    assert _error(response)["code"] == code


def test_apply_is_refused_to_api_keys_and_reads_need_the_scope(user, other_user):
    from integrations.services import api_key_issue

    issued = api_key_issue(user=user, name="k", scopes=["referrals:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    assert client.get("/api/v1/referrals/stats/").status_code == 200
    response = client.post("/api/v1/referrals/apply/", {"code": referrer_code(other_user)})
    assert response.status_code == 403
    assert _error(response)["code"] == "scope_not_allowed"
    assert not Referral.objects.exists()


@pytest.mark.parametrize("route", ["", "rewards/"])
def test_list_query_count_is_constant(user_api_client, user, django_assert_num_queries, route):
    def seed(n):
        for _ in range(n):
            referral = make_referral(referrer=user)
            referral_conversion_record(referred=referral.referred, invoice_id=f"in_{referral.pk}")

    user_api_client.get("/api/v1/referrals/stats/")  # the session's first request records it
    seed(1)
    with CaptureQueriesContext(connection) as one:
        assert len(user_api_client.get(f"/api/v1/referrals/{route}").json()["results"]) == 1
    assert len(one.captured_queries) <= 6
    seed(6)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(user_api_client.get(f"/api/v1/referrals/{route}").json()["results"]) == 7
