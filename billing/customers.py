"""The Stripe customer of every user: created once, kept in step with the user's e-mail address.

Other apps never call Stripe for this themselves: ``integrations`` queues
``stripe_customer_sync`` after sign-up and e-mail changes, referrals asks for the customer it
credits, and checkout creates it on first need. Creation carries an idempotency key derived from
the user, so a retry after a lost response still makes exactly one customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from djstripe.models import Customer

from accounts.models import User
from billing.selectors import customer_get_for_user
from billing.stripe_client import stripe_errors


@transaction.atomic
def customer_get_or_create(*, user: User) -> Customer:
    """The user's Stripe customer, created in Stripe and linked as the user's subscriber if missing.

    Safe to call concurrently (the user's row is locked) and to retry: the Stripe call carries
    an idempotency key derived from the user id (with their join time, and how many customers
    of theirs were purged).
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = customer_get_for_user(user=user)
    if existing is not None:
        return existing
    purged = Customer.objects.filter(subscriber=user, date_purged__isnull=False).count()
    with stripe_errors():
        data = stripe.Customer.create(
            email=user.email,
            name=user.handle,
            metadata={"djstripe_subscriber": str(user.pk), "handle": user.handle},
            # The join time keeps a reused id (a reset dev database) from replaying someone else's.
            idempotency_key=f"relay-customer-{user.pk}-{int(user.date_joined.timestamp())}-{purged}",
        )
        customer = Customer.sync_from_stripe_data(data)
    if customer.subscriber_id != user.pk:
        customer.subscriber = user
        customer.save(update_fields=["subscriber"])
    return customer


@dataclass(frozen=True)
class CustomerSyncResult:
    customer_id: str | None
    created: bool = False
    email_updated: bool = False


@transaction.atomic
def stripe_customer_sync(*, user_id: int) -> CustomerSyncResult:
    """Creates the user's Stripe customer if missing, or sends their new e-mail address to it.

    Does nothing for a deleted, deactivated or unverified user. Raises
    ``BillingUnavailableError`` when Stripe cannot be reached (the task retries on it).
    """
    if not settings.BILLING_ENABLED:  # BILLING_ENABLED=0: no Stripe to create customers in
        return CustomerSyncResult(customer_id=None)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not EmailAddress.objects.filter(user=user, verified=True).exists():
        return CustomerSyncResult(customer_id=None)
    existing = customer_get_for_user(user=user)
    if existing is None:
        customer = customer_get_or_create(user=user)
        return CustomerSyncResult(customer_id=customer.id, created=True)
    if existing.email.lower() == user.email.lower():
        return CustomerSyncResult(customer_id=existing.id)
    with stripe_errors():
        data = stripe.Customer.modify(
            existing.id,
            email=user.email,
            idempotency_key=f"relay-customer-email-{existing.id}-{user.email.lower()}",
        )
        Customer.sync_from_stripe_data(data)
    return CustomerSyncResult(customer_id=existing.id, email_updated=True)
