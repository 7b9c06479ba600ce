"""The billing API: bad input, scopes, pagination and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djstripe.models import Subscription
from rest_framework.test import APIClient

from integrations.services import api_key_issue

pytestmark = pytest.mark.django_db


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code
    assert set(body) >= {"code", "message", "fields"}


def test_free_user_reads(user_api_client):
    assert user_api_client.get("/api/v1/billing/entitlements/").json()["plan"] == "free"
    _error(user_api_client.get("/api/v1/billing/subscription/"), 404, "no_subscription")
    _error(user_api_client.get("/api/v1/billing/payment-method/"), 404, "no_payment_method")
    assert user_api_client.get("/api/v1/billing/invoices/").json()["results"] == []
    plans = user_api_client.get("/api/v1/billing/plans/").json()
    assert plans[0]["code"] == "free" and plans[0]["is_current"]


def test_anonymous_is_refused(api_client):
    _error(api_client.get("/api/v1/billing/entitlements/"), 401, "not_authenticated")


def test_nothing_to_cancel_resume_or_open_in_the_portal(user_api_client):
    _error(user_api_client.post("/api/v1/billing/subscription/cancel/"), 409, "not_active")
    _error(user_api_client.post("/api/v1/billing/subscription/resume/"), 409, "not_active")
    _error(user_api_client.post("/api/v1/billing/portal-session/"), 409, "no_customer")


def test_unknown_price_is_404_and_creates_no_customer(billing, user, user_api_client):
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": "price_unknown"}, format="json"
    )
    _error(response, 404, "unknown_price")
    _error(user_api_client.post("/api/v1/billing/checkout-session/", {}, format="json"), 400, "invalid")
    assert not billing.stripe.events("customer.created")


def test_subscribing_twice_is_409(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["pro_yearly"]}, format="json"
    )
    _error(response, 409, "already_subscribed")
    assert Subscription.objects.filter(customer__subscriber=user).count() == 1


def test_api_keys_can_read_billing_but_never_change_it(billing, user):
    issued = api_key_issue(user=user, name="ci", scopes=["billing:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    assert client.get("/api/v1/billing/entitlements/").status_code == 200
    assert client.get("/api/v1/billing/plans/").status_code == 200
    _error(
        client.post(
            "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
        ),
        403,
        "scope_not_allowed",
    )
    _error(client.post("/api/v1/billing/subscription/cancel/"), 403, "scope_not_allowed")
    no_scope = api_key_issue(user=user, name="posts", scopes=["posts:read"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {no_scope.token}")
    _error(client.get("/api/v1/billing/invoices/"), 403, "missing_scope")


def test_invoice_list_query_count_does_not_grow(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    with CaptureQueriesContext(connection) as one:
        first = user_api_client.get("/api/v1/billing/invoices/")
    assert len(first.json()["results"]) == 1
    for _ in range(4):
        billing.stripe.advance(days=31)
        billing.deliver()
    with CaptureQueriesContext(connection) as many:
        response = user_api_client.get("/api/v1/billing/invoices/")
    assert len(response.json()["results"]) == 5
    assert len(many) == len(one)
    page = user_api_client.get("/api/v1/billing/invoices/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = user_api_client.get(page["next"]).json()
    assert len(rest["results"]) == 2


def test_other_users_invoices_are_not_listed(billing, user, other_user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    other = APIClient()
    other.force_login(other_user)
    assert other.get("/api/v1/billing/invoices/").json()["results"] == []
