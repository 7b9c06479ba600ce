"""Billing's two account lifecycle hooks (see ``accounts.lifecycle``): what a data export holds of
billing, and what deleting an account does to the user's Stripe customer and subscriptions."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from djstripe.models import Customer, Subscription

from accounts.models import User
from billing.entitlements import entitlements_get_for_user, entitlements_invalidate
from billing.models import GracePeriod
from billing.selectors import (
    invoice_list_for_user,
    subscription_list_for_user,
    subscription_plan,
    subscription_price_id,
    subscription_status,
)
from billing.statuses import LIVE_STATUSES
from billing.tasks import customer_erase_remote


def billing_export(*, user: User) -> dict[str, Any]:
    """The user's plan, subscriptions and invoices, for their data export."""
    subscriptions = []
    for s in subscription_list_for_user(user=user):
        plan = subscription_plan(s)
        subscriptions.append(
            {
                "id": s.id,
                "status": subscription_status(s),
                "plan": plan.code if plan else None,
                "price": subscription_price_id(s),
                "created": s.created.isoformat() if s.created else None,
                "current_period_end": s.current_period_end.isoformat() if s.current_period_end else None,
                "cancel_at_period_end": bool(s.stripe_data.get("cancel_at_period_end")),
            }
        )
    invoices = [
        {
            "id": i.id,
            "number": i.stripe_data.get("number"),
            "created": i.created.isoformat() if i.created else None,
            "total": i.stripe_data.get("total"),
            "currency": i.stripe_data.get("currency"),
            "status": i.stripe_data.get("status"),
            "hosted_invoice_url": i.stripe_data.get("hosted_invoice_url"),
        }
        for i in invoice_list_for_user(user=user).order_by("-created")
    ]
    return {
        "plan": entitlements_get_for_user(user=user).plan,
        "subscriptions": subscriptions,
        "invoices": invoices,
    }


def billing_erase(*, user: User) -> None:
    """On account deletion: cancel running subscriptions now and detach the customer's personal data.

    The Stripe calls run after the deletion commits (a Celery task with retries); locally the
    customers are unlinked from the user and their e-mail/name dropped from the synced copy.
    Invoices stay in Stripe for accounting, no longer linked to a person here.
    """
    customers = list(Customer.objects.filter(subscriber=user))
    for customer in customers:
        running = [
            s.id
            for s in Subscription.objects.filter(customer=customer)
            if subscription_status(s) in LIVE_STATUSES
        ]
        data = dict(customer.stripe_data)
        for key in ("email", "name", "phone", "address", "shipping", "description"):
            if key in data:
                data[key] = None
        customer.stripe_data = data
        customer.subscriber = None
        customer.save(update_fields=["stripe_data", "subscriber"])
        customer_id = customer.id
        transaction.on_commit(
            partial(customer_erase_remote.delay, customer_id=customer_id, subscription_ids=running)
        )
    GracePeriod.objects.filter(user=user).delete()
    entitlements_invalidate(user_id=user.pk)
