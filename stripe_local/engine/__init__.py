"""The stand-in's state and behaviour: objects, ids, events, expansion, money flows and the clock.

No Django here: the engine runs inside pytest, behind ``manage.py stripe_local`` or on its own.
Every public method takes the lock; objects are stored in Stripe's 2025-02-24.acacia shape and
copied on the way out, so callers never share state with the engine.

``Engine`` is built from one class per Stripe resource, stacked so that each layer inherits the
ones it calls (mypy checks every ``self.`` call against the layers below, which independent
mixins would not allow): ``EngineStore`` (state, ids, output) ← ``EventsMixin`` ←
``PaymentMethodsMixin`` ← ``ChargesMixin`` (charges and disputes, which call each other) ←
``DiscountsMixin`` ← ``InvoicesMixin`` ← ``SubscriptionsMixin`` ← ``ClockMixin`` ← ``Engine``.
"""

from __future__ import annotations

from .clock import ClockMixin
from .common import (
    ACCOUNT_ID,
    API_VERSION,
    CHECKOUT_EXPIRES_SECONDS,
    MAX_IDEMPOTENCY_KEYS,
    Obj,
    StripeError,
    not_found,
)


class Engine(ClockMixin):
    """State and behaviour of one local Stripe account."""


__all__ = [
    "ACCOUNT_ID",
    "API_VERSION",
    "CHECKOUT_EXPIRES_SECONDS",
    "MAX_IDEMPOTENCY_KEYS",
    "Engine",
    "Obj",
    "StripeError",
    "not_found",
]
