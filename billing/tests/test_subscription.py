"""Running a subscription on the stand-in: trial, renewal failure and grace, cancel, resume,
plan change with proration, promotion codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from djstripe.models import Invoice

from billing.entitlements import entitlements_get_for_user
from billing.models import BillingNotification, GracePeriod

pytestmark = pytest.mark.django_db

DAY = 86400


def _subscription(api):
    response = api.get("/api/v1/billing/subscription/")
    assert response.status_code == 200, response.content
    return response.json()


def test_trial_then_trial_will_end_email_once_then_paid(billing, user, user_api_client, mailoutbox):
    billing.checkout(user_api_client, "pro_monthly")
    sub = _subscription(user_api_client)
    assert sub["status"] == "trialing" and sub["plan"] == "pro"
    assert entitlements_get_for_user(user=user).is_paid
    invoices = user_api_client.get("/api/v1/billing/invoices/").json()["results"]
    assert [i["total"] for i in invoices] == [0]

    billing.stripe.advance(days=12)  # trial_will_end fires 3 days before the end
    billing.deliver()
    trial_mails = [m for m in mailoutbox if "trial ends soon" in m.subject]
    assert len(trial_mails) == 1 and trial_mails[0].to == [user.email]

    billing.stripe.advance(days=3)
    billing.deliver()
    sub = _subscription(user_api_client)
    assert sub["status"] == "active"
    totals = sorted(i["total"] for i in user_api_client.get("/api/v1/billing/invoices/").json()["results"])
    assert totals == [0, 800]
    assert len([m for m in mailoutbox if "trial ends soon" in m.subject]) == 1


def test_renewal_failing_with_0341_goes_past_due_with_grace_then_free(
    billing, user, user_api_client, client, mailoutbox, settings
):
    # A trial needs no charge, so the 0341 card attaches; its first real charge fails.
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    assert _subscription(user_api_client)["status"] == "trialing"

    billing.stripe.advance(days=15)
    billing.deliver()
    sub = _subscription(user_api_client)
    assert sub["status"] == "past_due"
    assert sub["grace_ends_at"] is not None
    # Paid features are kept during the grace period, with a banner and one e-mail.
    assert entitlements_get_for_user(user=user).is_paid
    failed = [m for m in mailoutbox if "payment failed" in m.subject]
    assert len(failed) == 1
    assert GracePeriod.objects.filter(user=user).count() == 1
    client.force_login(user)
    page = client.get("/billing/").content.decode()
    assert "update your card" in page and "Your last payment failed" in page
    assert "update your card" in client.get("/billing/pricing/").content.decode()  # on every page

    # Stripe retries: another payment_failed for the same invoice sends no second e-mail and
    # keeps the grace period's start.
    started = GracePeriod.objects.get(user=user).started_at
    billing.stripe.advance(days=3)
    billing.deliver()
    assert len([m for m in mailoutbox if "payment failed" in m.subject]) == 1
    assert GracePeriod.objects.get(user=user).started_at == started

    # Once the grace period is over, the user is on the free plan although Stripe still retries.
    GracePeriod.objects.filter(user=user).update(
        started_at=timezone.now() - timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS, seconds=1)
    )
    from django.core.cache import cache

    cache.clear()
    assert _subscription(user_api_client)["status"] == "past_due"
    entitlements = entitlements_get_for_user(user=user)
    assert entitlements.plan == "free" and not entitlements.is_paid


def test_paying_after_a_failure_ends_the_grace_period(billing, user, user_api_client):
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=15)
    billing.deliver()
    assert GracePeriod.objects.filter(user=user).exists()
    # The user fixes their card in the portal; Stripe's next retry succeeds.
    portal = user_api_client.post("/api/v1/billing/portal-session/").json()["url"]
    page = billing.stripe.portal(portal, "card", card_number="4242424242424242")
    assert page.status in (200, 303)
    billing.stripe.advance(days=3)
    billing.deliver()
    assert _subscription(user_api_client)["status"] == "active"
    assert not GracePeriod.objects.filter(user=user).exists()
    assert entitlements_get_for_user(user=user).is_paid


def test_cancel_at_period_end_then_resume(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    response = user_api_client.post("/api/v1/billing/subscription/cancel/")
    assert response.status_code == 200
    assert response.json()["cancel_at_period_end"] is True
    # Cancelling twice is refused and changes nothing.
    again = user_api_client.post("/api/v1/billing/subscription/cancel/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_canceling"
    billing.deliver()
    assert entitlements_get_for_user(user=user).is_paid  # paid until the period ends

    response = user_api_client.post("/api/v1/billing/subscription/resume/")
    assert response.status_code == 200 and response.json()["cancel_at_period_end"] is False
    again = user_api_client.post("/api/v1/billing/subscription/resume/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_canceling"
    billing.deliver()


def test_cancelled_subscription_ends_at_period_end_and_user_is_free(billing, user, user_api_client, client):
    billing.checkout(user_api_client, "team_monthly")
    client.force_login(user)
    response = client.post("/billing/cancel/")
    assert response.status_code == 302
    billing.stripe.advance(days=32)
    billing.deliver()
    assert _subscription(user_api_client)["status"] == "canceled"
    assert entitlements_get_for_user(user=user).plan == "free"
    # Cancelling what is not active is a clear 409.
    response = user_api_client.post("/api/v1/billing/subscription/cancel/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_active"


def test_plan_change_shows_the_proration_then_charges_it(billing, user, user_api_client, client):
    billing.checkout(user_api_client, "team_monthly")
    billing.stripe.advance(days=15)
    billing.deliver()
    preview = user_api_client.post(
        "/api/v1/billing/subscription/change/",
        {"price_id": billing.prices["pro_monthly"], "preview": True},
        format="json",
    )
    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert data["proration_amount"] < 0  # a downgrade mid-period gives a credit
    assert _subscription(user_api_client)["plan"] == "team"  # the preview changed nothing

    client.force_login(user)
    page = client.get(f"/billing/change/?price_id={billing.prices['pro_monthly']}")
    assert page.status_code == 200 and f'data-proration="{data["proration_amount"]}"' in page.content.decode()

    response = user_api_client.post(
        "/api/v1/billing/subscription/change/",
        {"price_id": billing.prices["pro_monthly"], "proration_date": data["proration_date"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["plan"] == "pro"
    billing.deliver()
    assert entitlements_get_for_user(user=user).plan == "pro"
    # The next invoice carries exactly the previewed proration.
    billing.stripe.advance(days=20)
    billing.deliver()
    renewal = Invoice.objects.filter(customer__subscriber=user).order_by("-created").first()
    prorations = [line["amount"] for line in renewal.stripe_data["lines"]["data"] if line.get("proration")]
    assert sum(prorations) == data["proration_amount"]


def test_plan_change_bad_input(billing, user, user_api_client):
    none = user_api_client.post(
        "/api/v1/billing/subscription/change/", {"price_id": billing.prices["pro_monthly"]}, format="json"
    )
    assert none.status_code == 409 and none.json()["error"]["code"] == "not_active"
    billing.checkout(user_api_client, "team_monthly")
    same = user_api_client.post(
        "/api/v1/billing/subscription/change/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    assert same.status_code == 409 and same.json()["error"]["code"] == "same_plan"
    unknown = user_api_client.post(
        "/api/v1/billing/subscription/change/", {"price_id": "price_nope"}, format="json"
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_price"
    expired = user_api_client.post(
        "/api/v1/billing/subscription/change/",
        {"price_id": billing.prices["pro_monthly"], "proration_date": 1000},
        format="json",
    )
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "preview_expired"
    missing = user_api_client.post("/api/v1/billing/subscription/change/", {}, format="json")
    assert missing.status_code == 400 and "price_id" in missing.json()["error"]["fields"]
    assert _subscription(user_api_client)["plan"] == "team"


def test_promotion_code_discounts_the_first_invoice(billing, user, user_api_client):
    coupon = stripe.Coupon.create(percent_off=50, duration="once")
    stripe.PromotionCode.create(coupon=coupon.id, code="HALFOFF")
    billing.checkout(user_api_client, "team_monthly", promotion_code="HALFOFF")
    invoices = user_api_client.get("/api/v1/billing/invoices/").json()["results"]
    assert [(i["status"], i["total"]) for i in invoices] == [("paid", 1200)]


def test_referral_discount_hook_replaces_the_promotion_code_box(billing, user, user_api_client):
    from billing import hooks

    coupon = stripe.Coupon.create(percent_off=25, duration="once")

    def provider(u):
        return [{"coupon": coupon.id}] if u.pk == user.pk else []

    hooks.register_checkout_discounts_provider(provider)
    try:
        billing.checkout(user_api_client, "team_monthly")
    finally:
        hooks._discount_providers.remove(provider)
    session = billing.stripe.events("checkout.session.completed")[0]["data"]["object"]
    assert not session.get("allow_promotion_codes")
    invoices = user_api_client.get("/api/v1/billing/invoices/").json()["results"]
    assert [i["total"] for i in invoices] == [1800]


def test_trial_ending_email_is_sent_once_per_trial(billing, user, user_api_client, mailoutbox):
    billing.checkout(user_api_client, "pro_monthly")
    billing.stripe.advance(days=12)
    billing.deliver()
    assert BillingNotification.objects.filter(user=user, kind="trial_ending").count() == 1


def test_changes_made_in_the_customer_portal_reach_the_app(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    sub_id = _subscription(user_api_client)["id"]
    portal = user_api_client.post("/api/v1/billing/portal-session/").json()["url"]
    page = billing.stripe.portal(portal, "switch", subscription=sub_id, price=billing.prices["pro_monthly"])
    assert page.status in (200, 303)
    billing.deliver()
    assert _subscription(user_api_client)["plan"] == "pro"
    assert entitlements_get_for_user(user=user).plan == "pro"
    billing.stripe.portal(portal, "cancel", subscription=sub_id)
    billing.deliver()
    assert _subscription(user_api_client)["cancel_at_period_end"] is True
