"""Entitlements per subscription status, the plan metadata, caching."""

from __future__ import annotations

import pytest
import stripe
from django.core.cache import cache
from djstripe.models import Subscription

from billing.entitlements import FREE, entitlements_get_for_user
from billing.plans import plan_from_metadata

pytestmark = pytest.mark.django_db


def test_product_metadata_is_the_plan():
    plan = plan_from_metadata(
        name="Pro", metadata={"plan": "pro", "max_post_length": "2000", "trial_days": "14"}
    )
    assert plan is not None and plan.code == "pro" and plan.trial_days == 14
    assert plan.limits["max_post_length"] == 2000
    # Missing or broken limits never go below the free plan.
    assert plan.limits["posts_per_day"] == FREE.posts_per_day
    broken = plan_from_metadata(
        name="X", metadata={"plan": "x", "max_api_keys": "lots", "posts_per_day": "1"}
    )
    assert broken is not None and broken.limits["max_api_keys"] == FREE.max_api_keys
    assert broken.limits["posts_per_day"] == FREE.posts_per_day
    assert plan_from_metadata(name="Sticker", metadata={}) is None


def test_no_subscription_is_free(user):
    assert entitlements_get_for_user(user=user) == FREE


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        ("active", True),
        ("trialing", True),
        ("past_due", True),  # within grace: the period just started
        ("unpaid", False),
        ("canceled", False),
        ("incomplete", False),
        ("incomplete_expired", False),
    ],
)
def test_entitlements_per_status(billing, user, user_api_client, status, paid):
    billing.checkout(user_api_client, "team_monthly")
    subscription = Subscription.objects.get(customer__subscriber=user)
    # Stripe's status as the webhook would have synced it (only the status differs).
    remote = stripe.Subscription.retrieve(subscription.id)
    remote["status"] = status
    Subscription.sync_from_stripe_data(remote)
    cache.clear()
    entitlements = entitlements_get_for_user(user=user)
    assert entitlements.is_paid is paid
    assert entitlements.plan == ("team" if paid else "free")


def test_answer_is_cached_until_a_webhook_invalidates_it(billing, user, user_api_client):
    assert entitlements_get_for_user(user=user).plan == "free"
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    billing.stripe.pay_checkout(response.json()["url"])
    assert entitlements_get_for_user(user=user).plan == "free"  # cached, nothing delivered yet
    billing.deliver()
    assert entitlements_get_for_user(user=user).plan == "team"
