"""Credit on a customer's Stripe balance (Stripe applies a negative balance to the next invoice).

The referral reward is the one user today; the calls take the caller's idempotency key, so a
retry after a failed commit never credits (or reverses) twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe

from accounts.models import User
from billing.customers import customer_get_or_create
from billing.stripe_client import stripe_errors


@dataclass(frozen=True)
class BalanceCredit:
    customer_id: str
    transaction_id: str


def balance_credit_grant(
    *,
    user: User,
    amount_cents: int,
    currency: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> BalanceCredit:
    """Credits ``amount_cents`` to the user's Stripe customer (created if missing)."""
    customer = customer_get_or_create(user=user)
    with stripe_errors():
        txn = stripe.Customer.create_balance_transaction(
            customer.id,
            amount=-amount_cents,
            currency=currency,
            description=description,
            metadata=metadata,
            idempotency_key=idempotency_key,
        )
    return BalanceCredit(customer_id=customer.id, transaction_id=str(txn.id))


def balance_credit_reverse(
    *,
    customer_id: str,
    amount_cents: int,
    currency: str,
    description: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> str:
    """Takes back a credit granted earlier (a positive balance transaction); returns its id."""
    with stripe_errors():
        txn = stripe.Customer.create_balance_transaction(
            customer_id,
            amount=amount_cents,
            currency=currency,
            description=description,
            metadata=metadata,
            idempotency_key=idempotency_key,
        )
    return str(txn.id)
