"""Referrals reuses billing's Stripe stand-in fixtures for its end-to-end reward tests."""

from __future__ import annotations

from billing.tests.conftest import billing  # noqa: F401
from stripe_local.pytest_plugin import stripe_local, stripe_local_server  # noqa: F401
