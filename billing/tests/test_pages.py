"""The billing pages: pricing, subscribe, success, settings, change, portal."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_pricing_page_for_anonymous_and_signed_in(billing, client, user):
    body = client.get("/billing/pricing/").content.decode()
    assert "Free" in body and "Pro" in body and "Team" in body
    assert "14-day free trial" in body and "$8.00" in body
    yearly = client.get("/billing/pricing/?interval=year").content.decode()
    assert "$80.00" in yearly and "$240.00" in yearly
    client.force_login(user)
    body = client.get("/billing/pricing/").content.decode()
    assert 'data-plan="free"' in body and "Current plan" in body
    assert "Start free trial" in body


def test_pricing_page_lists_each_limit_of_the_free_plan_once(billing, client):
    body = client.get("/billing/pricing/").content.decode()
    free = body.split('data-plan="free"', 1)[1].split("</article>", 1)[0]
    items = [line.strip() for line in free.splitlines() if line.strip().startswith("<li>")]
    assert items and len(items) == len(set(items)), items
    assert free.count("characters") == 1


def test_subscribe_redirects_to_checkout_with_303(billing, client, user):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["pro_monthly"]})
    assert response.status_code == 303
    assert response["Location"].startswith(billing.stripe.base_url)
    session = billing.stripe.engine.all("checkout.session")[0]
    assert session["client_reference_id"] == str(user.pk)
    assert session["allow_promotion_codes"] is True
    assert session["mode"] == "subscription"


def test_subscribe_with_unknown_price_shows_an_error(billing, client, user):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": "price_nope"}, follow=True)
    assert response.status_code == 200
    assert "There is no plan with this price." in response.content.decode()


def test_subscribe_needs_login(billing, client):
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["pro_monthly"]})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_success_page_polls_until_the_webhooks_arrive(billing, client, user, user_api_client):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"price_id": billing.prices["team_monthly"]})
    billing.stripe.pay_checkout(response["Location"])
    waiting = client.get("/billing/success/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="processing"' in waiting and 'hx-trigger="every 2s"' in waiting
    billing.deliver()
    ready = client.get("/billing/success/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-state="ready"' in ready and "hx-trigger" not in ready


def test_settings_page_free_user(client, user):
    client.force_login(user)
    body = client.get("/billing/").content.decode()
    assert "You are on the <strong>Free</strong> plan." in body
    assert "No invoices yet." in body


def test_settings_page_with_invoices_and_portal(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    body = client.get("/billing/").content.decode()
    assert "Cancel at period end" in body and "$24.00" in body and "PDF" in body
    portal = client.post("/billing/portal/")
    assert portal.status_code == 303 and portal["Location"].startswith(billing.stripe.base_url)


def test_cancel_and_resume_from_the_page(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    body = client.post("/billing/cancel/", follow=True).content.decode()
    assert "Resume subscription" in body and "Ends on" in body
    body = client.post("/billing/resume/", follow=True).content.decode()
    assert "Cancel at period end" in body
    body = client.post("/billing/resume/", follow=True).content.decode()
    assert "Your subscription is not set to end." in body


def test_change_confirm_form(billing, client, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    page = client.get(f"/billing/change/?price_id={billing.prices['team_yearly']}")
    assert page.status_code == 200 and "Confirm change" in page.content.decode()
    proration_date = page.context["preview"]["proration_date"]
    body = client.post(
        "/billing/change/",
        {"price_id": billing.prices["team_yearly"], "proration_date": proration_date},
        follow=True,
    ).content.decode()
    assert "Your plan was changed." in body
    bad = client.get("/billing/change/?price_id=price_nope", follow=True).content.decode()
    assert "There is no plan with this price." in bad
