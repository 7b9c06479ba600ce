"""One place that points stripe-python at the right server, key and API version.

dj-stripe reads ``settings.STRIPE_API_VERSION`` for its own calls and sets ``stripe.api_base``
from ``settings.STRIPE_API_HOST``; the project's direct calls go through the same module-level
configuration, set here once at start-up (``BillingConfig.ready``), so every call agrees on the
version whose response shapes dj-stripe 2.11 reads (see ../shared/stripe/NOTES.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe
from django.conf import settings

from config.errors import ApplicationError


def configure() -> None:
    """Sets stripe-python's globals from the settings (idempotent)."""
    stripe.api_version = settings.STRIPE_API_VERSION
    # Set only for the stand-in (or when asked for); otherwise stripe's default, api.stripe.com.
    api_host = getattr(settings, "STRIPE_API_HOST", "")
    if api_host:
        stripe.api_base = api_host
    stripe.api_key = api_key()
    stripe.max_network_retries = 2


def api_key() -> str:
    """The secret key for the configured mode (the stand-in's fake key when it is in use)."""
    if settings.STRIPE_LIVE_MODE:
        return str(settings.STRIPE_LIVE_SECRET_KEY)
    return str(settings.STRIPE_TEST_SECRET_KEY)


class BillingUnavailableError(ApplicationError):
    status_code = 503
    code = "billing_unavailable"


class PaymentFailedError(ApplicationError):
    status_code = 402
    code = "payment_failed"


@contextmanager
def stripe_errors() -> Iterator[None]:
    """Turns Stripe's exceptions into the project's error shape (never a 500 for the client)."""
    try:
        yield
    except stripe.CardError as exc:
        raise PaymentFailedError(exc.user_message or "The card was declined.") from exc
    except stripe.InvalidRequestError as exc:
        raise ApplicationError(
            exc.user_message or "The payment provider refused the request.", code="billing_invalid"
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise BillingUnavailableError("Billing is unavailable right now. Try again shortly.") from exc
    except stripe.StripeError as exc:
        raise BillingUnavailableError("Billing is unavailable right now. Try again shortly.") from exc
