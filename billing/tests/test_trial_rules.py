"""A plan change keeps exactly the trial rules the pricing page states (issue 14.2): Pro offers
a 14-day trial, Team none. Moving from a Pro trial to Team ends the trial and charges Team now;
Pro monthly to Pro yearly keeps the trial; a declined card refuses the change."""

from __future__ import annotations

import pytest

from billing.entitlements import entitlements_get_for_user

pytestmark = pytest.mark.django_db


def _change(api, price_id, **extra):
    return api.post("/api/v1/billing/subscription/change/", {"price_id": price_id, **extra}, format="json")


def _invoice_totals(api):
    return sorted(i["total"] for i in api.get("/api/v1/billing/invoices/").json()["results"])


def test_pricing_page_states_the_trial_rule(billing, client):
    body = client.get("/billing/pricing/").content.decode()
    assert "14-day free trial" in body
    assert "Switching to a plan without a trial during your trial ends it" in body


def test_switching_from_the_pro_trial_to_team_ends_the_trial_and_charges(
    billing, user, user_api_client, client
):
    billing.checkout(user_api_client, "pro_monthly")
    assert user_api_client.get("/api/v1/billing/subscription/").json()["status"] == "trialing"

    preview = _change(user_api_client, billing.prices["team_monthly"], preview=True).json()
    assert preview["ends_trial"] is True and preview["amount_due"] == 2400
    client.force_login(user)
    page = client.get(f"/billing/change/?price_id={billing.prices['team_monthly']}").content.decode()
    assert "Team has no free trial: your trial ends when you confirm" in page and "$24.00" in page

    response = _change(
        user_api_client, billing.prices["team_monthly"], proration_date=preview["proration_date"]
    )
    assert response.status_code == 200, response.content
    billing.deliver()
    sub = user_api_client.get("/api/v1/billing/subscription/").json()
    assert (sub["plan"], sub["status"]) == ("team", "active")
    assert _invoice_totals(user_api_client) == [0, 2400]
    assert entitlements_get_for_user(user=user).plan == "team"


def test_switching_interval_within_pro_keeps_the_trial(billing, user, user_api_client):
    billing.checkout(user_api_client, "pro_monthly")
    trial_end = user_api_client.get("/api/v1/billing/subscription/").json()["trial_end"]
    preview = _change(user_api_client, billing.prices["pro_yearly"], preview=True).json()
    assert preview["ends_trial"] is False
    assert _change(user_api_client, billing.prices["pro_yearly"]).status_code == 200
    billing.deliver()
    sub = user_api_client.get("/api/v1/billing/subscription/").json()
    assert (sub["status"], sub["interval"], sub["trial_end"]) == ("trialing", "year", trial_end)
    assert _invoice_totals(user_api_client) == [0]


def test_a_declined_card_refuses_the_switch_and_keeps_the_trial(billing, user, user_api_client):
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    response = _change(user_api_client, billing.prices["team_monthly"])
    assert response.status_code == 402, response.content
    billing.deliver()
    sub = user_api_client.get("/api/v1/billing/subscription/").json()
    assert (sub["plan"], sub["status"]) == ("pro", "trialing")
    assert entitlements_get_for_user(user=user).plan == "pro"


def test_switching_to_team_in_the_customer_portal_also_ends_the_trial(billing, user, user_api_client):
    billing.checkout(user_api_client, "pro_monthly")
    sub_id = user_api_client.get("/api/v1/billing/subscription/").json()["id"]
    portal = user_api_client.post("/api/v1/billing/portal-session/").json()["url"]
    page = billing.stripe.portal(portal, "switch", subscription=sub_id, price=billing.prices["team_monthly"])
    assert page.status in (200, 303)
    billing.deliver()
    sub = user_api_client.get("/api/v1/billing/subscription/").json()
    assert (sub["plan"], sub["status"]) == ("team", "active")
    assert 2400 in _invoice_totals(user_api_client)
