"""A Stripe customer for every verified user, kept in step with their e-mail address.

Sign-up and e-mail changes only schedule work (``transaction.on_commit`` -> Celery), so they never
wait for Stripe or fail because it is down: the task retries with backoff, and
``manage.py integrations_backfill_customers`` (also run daily by beat) catches anyone left over.
The Stripe side is billing's (``billing.customers.stripe_customer_sync``): this app only decides
when to ask for it.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from integrations.tasks import stripe_customer_sync


def stripe_customer_sync_later(*, user: User) -> None:
    """After the current transaction commits, makes sure ``user`` has a Stripe customer with
    their current e-mail address (a Celery task that retries until Stripe answers)."""
    user_id = user.pk
    transaction.on_commit(lambda: stripe_customer_sync.delay(user_id=user_id))
