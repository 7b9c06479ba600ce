"""Stripe's REST endpoints, one small function each, on top of the engine, one module per resource.

Importing this package imports every resource module, and each module's ``@route`` decorators add
its handlers to the one route table (``_common.ROUTES``) that ``dispatch`` walks. Routes whose
patterns overlap (``/v1/customers/search`` before ``/v1/customers/{id}``) live in the same module,
in the order they must be tried, so the order the modules are imported in does not matter.
"""

from __future__ import annotations

from ..engine import API_VERSION

# Imported for their @route registrations (see the module docstring), not for a name.
from . import (  # noqa: F401
    account,
    balance,
    charges,
    checkout,
    clocks,
    coupons,
    credit_notes,
    customers,
    disputes,
    events,
    invoices,
    local,
    payment_methods,
    portal,
    products,
    subscriptions,
    webhooks,
)
from ._common import ROUTES, dispatch, json_roundtrip
from .checkout import card_optional, complete_checkout
from .customers import customer_invoice_settings, customers_create
from .local import local_disputes_create
from .subscriptions import subscriptions_update
from .webhooks import webhook_endpoints_create

__all__ = [
    "API_VERSION",
    "ROUTES",
    "card_optional",
    "complete_checkout",
    "customer_invoice_settings",
    "customers_create",
    "dispatch",
    "json_roundtrip",
    "local_disputes_create",
    "subscriptions_update",
    "webhook_endpoints_create",
]
