"""Account export and deletion, the customer service, reconciliation and the commands."""

from __future__ import annotations

import io

import pytest
import stripe
from django.core.management import call_command
from django.db import transaction
from djstripe.models import Customer, Subscription

from accounts.lifecycle import erasers, exporters
from billing.customers import customer_get_or_create

pytestmark = pytest.mark.django_db


def test_customer_get_or_create_is_idempotent(billing, user):
    first = customer_get_or_create(user=user)
    second = customer_get_or_create(user=user)
    assert first.id == second.id and first.subscriber_id == user.pk
    assert len(billing.stripe.engine.all("customer")) == 1


def test_export_lists_plan_subscriptions_and_invoices(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    data = exporters()["billing"](user=user)
    assert data["plan"] == "team"
    assert data["subscriptions"][0]["status"] == "active"
    assert data["invoices"][0]["total"] == 2400


def test_erase_cancels_the_subscription_and_detaches_personal_data(
    billing, user, user_api_client, django_capture_on_commit_callbacks
):
    billing.checkout(user_api_client, "team_monthly")
    customer = Customer.objects.get(subscriber=user)
    subscription = Subscription.objects.get(customer=customer)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        erasers()["billing"](user=user)
    remote_sub = stripe.Subscription.retrieve(subscription.id)
    assert remote_sub.status == "canceled"
    remote_customer = stripe.Customer.retrieve(customer.id)
    assert not remote_customer.email and not remote_customer.name
    customer.refresh_from_db()
    assert customer.subscriber is None and not customer.stripe_data.get("email")


def test_reconcile_reports_and_fixes_missed_webhooks(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    sub = Subscription.objects.get(customer__subscriber=user)
    # A cancellation made in the Stripe dashboard whose webhooks never arrived.
    stripe.Subscription.modify(sub.id, cancel_at_period_end=True)
    engine = billing.stripe.engine
    for delivery in engine.take_deliveries():
        engine.delivered(delivery)
    out = io.StringIO()
    call_command("billing_reconcile", stdout=out)
    report = out.getvalue()
    assert f"subscription {sub.id}: cancel_at_period_end: False -> True" in report
    sub.refresh_from_db()
    assert sub.stripe_data["cancel_at_period_end"] is True
    again = io.StringIO()
    call_command("billing_reconcile", stdout=again)
    assert "0 difference(s) fixed." in again.getvalue()
    # The daily task runs the same reconciliation.
    from billing.tasks import billing_reconcile

    assert billing_reconcile.apply().get() == 0


def test_sync_command_copies_the_catalogue(billing):
    out = io.StringIO()
    call_command("billing_sync", stdout=out)
    assert "synced 2 products and 4 prices" in out.getvalue()


def test_setup_local_is_idempotent(billing, settings):
    out = io.StringIO()
    call_command("billing_setup_local", stdout=out)
    call_command("billing_setup_local", stdout=out)
    assert len(billing.stripe.engine.all("product")) == 2
    assert len(billing.stripe.engine.all("price")) == 4
    assert "already registered" in out.getvalue()


def test_demo_gives_alice_pro(billing):
    from accounts.tests.factories import UserFactory
    from billing.demo import seed
    from billing.entitlements import entitlements_get_for_user

    alice = UserFactory(handle="alice")
    out = io.StringIO()
    seed(users=[alice], stdout=out)
    seed(users=[alice], stdout=out)
    assert entitlements_get_for_user(user=alice).plan == "pro"
    assert "already has a subscription" in out.getvalue()
