"""``billing_reconcile`` reaches the state the webhooks would have (issue 14.3): a missed payment
failure's grace period counts from the failed renewal, so a user whose grace is already over stays
on the free plan; local rows whose Stripe object is gone are reported."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from djstripe.models import Subscription

from billing.entitlements import entitlements_get_for_user
from billing.models import GracePeriod

pytestmark = pytest.mark.django_db

DAY = 86400


def _miss_webhooks(engine):
    for delivery in engine.take_deliveries():
        engine.delivered(delivery)


def _reconcile() -> str:
    out = io.StringIO()
    call_command("billing_reconcile", stdout=out)
    return out.getvalue()


def test_a_missed_failure_long_ago_does_not_give_paid_features_back(billing, user, user_api_client):
    engine = billing.stripe.engine
    with engine.lock:  # the trial started a month ago, in Stripe's clock and ours alike
        engine.now -= 30 * DAY
    billing.checkout(user_api_client, "pro_monthly", card="4000000000000341")
    billing.stripe.advance(days=15)  # the renewal failed 15 days ago...
    _miss_webhooks(engine)  # ...and its webhooks never arrived
    failed_at = billing.stripe.events("invoice.payment_failed")[0]["created"]

    report = _reconcile()
    sub = Subscription.objects.get(customer__subscriber=user)
    assert f"subscription {sub.id}: status: 'trialing' -> 'past_due'" in report
    assert "grace period recorded from" in report
    grace = GracePeriod.objects.get(subscription_id=sub.id)
    assert abs(grace.started_at - datetime.fromtimestamp(failed_at, tz=UTC)).total_seconds() < 120
    entitlements = entitlements_get_for_user(user=user)
    assert entitlements.plan == "free" and not entitlements.is_paid
    assert "0 difference(s) fixed." in _reconcile()


def test_rows_whose_stripe_object_is_gone_are_reported(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    sub = Subscription.objects.get(customer__subscriber=user)
    engine = billing.stripe.engine
    with engine.lock:
        invoice_id = engine.objects["subscription"].pop(sub.id)["latest_invoice"]
        engine.objects["invoice"].pop(invoice_id)
    report = _reconcile()
    assert f"subscription {sub.id}: gone from Stripe (local row kept)" in report
    assert f"invoice {invoice_id}: gone from Stripe (local row kept)" in report
    assert "2 local row(s) whose Stripe object is gone." in report
    assert Subscription.objects.filter(id=sub.id).exists()
