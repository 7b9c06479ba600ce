"""stripe-python's configuration agrees with dj-stripe's, with and without a custom API host."""

from __future__ import annotations

import stripe
from djstripe.settings import djstripe_settings

from billing.stripe_client import configure


def test_one_api_version_everywhere(settings):
    configure()
    assert stripe.api_version == settings.STRIPE_API_VERSION == djstripe_settings.STRIPE_API_VERSION
    assert stripe.api_version == "2025-02-24.acacia"


def test_real_stripe_keeps_the_default_host(settings):
    previous = stripe.api_base
    try:
        stripe.api_base = "https://api.stripe.com"
        del settings.STRIPE_API_HOST
        configure()
        assert stripe.api_base == "https://api.stripe.com"
        settings.STRIPE_API_HOST = "http://127.0.0.1:12111"
        configure()
        assert stripe.api_base == "http://127.0.0.1:12111"
    finally:
        stripe.api_base = previous
