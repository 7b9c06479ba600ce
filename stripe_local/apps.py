"""The stand-in is a Django app only for its management commands (installed with debug or tests)."""

from __future__ import annotations

from django.apps import AppConfig


class StripeLocalConfig(AppConfig):
    name = "stripe_local"
    verbose_name = "Local Stripe stand-in"
