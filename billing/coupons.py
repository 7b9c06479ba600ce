"""Stripe coupons the product hands out (the referral welcome discount), created on first need."""

from __future__ import annotations

import stripe
from django.conf import settings
from django.core.cache import cache

from billing.stripe_client import stripe_errors


def coupon_ensure(*, coupon_id: str, percent_off: int, name: str) -> str:
    """The id of a ``duration=once`` percent-off coupon, created in Stripe if missing (idempotently).

    Remembered for an hour per Stripe host, so a checkout does not ask Stripe every time.
    """
    cache_key = f"billing:coupon:{getattr(settings, 'STRIPE_API_HOST', '')}:{coupon_id}"
    if cache.get(cache_key):
        return coupon_id
    with stripe_errors():
        try:
            stripe.Coupon.retrieve(coupon_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
            try:
                stripe.Coupon.create(
                    id=coupon_id,
                    percent_off=percent_off,
                    duration="once",
                    name=name,
                    idempotency_key=f"relay-coupon-{coupon_id}-{percent_off}",
                )
            except stripe.InvalidRequestError as created_exc:
                if created_exc.code != "resource_already_exists":
                    raise
    cache.set(cache_key, True, 3600)
    return coupon_id
