"""What the stand-in's API tests share: the key, raw HTTP calls, a price and a customer with a card."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import stripe

KEY = "sk_test_localstandin000000000000000000"


def raw(
    stripe_local,
    method: str,
    path: str,
    params: dict | None = None,
    *,
    key: str | None = KEY,
    headers: dict | None = None,
):
    """A raw HTTP call; returns (status, json body, response headers)."""
    data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
    url = (
        stripe_local.base_url
        + path
        + ("?" + urllib.parse.urlencode(params or {}) if method != "POST" and params else "")
    )
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local test server
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def recurring_price(amount: int = 1000, interval: str = "month") -> stripe.Price:
    product = stripe.Product.create(name="Plan")
    return stripe.Price.create(
        product=product.id, currency="usd", unit_amount=amount, recurring={"interval": interval}
    )


def customer_with_card(card: str = "pm_card_visa") -> tuple[stripe.Customer, str]:
    customer = stripe.Customer.create(email="c@example.com")
    pm = stripe.PaymentMethod.attach(card, customer=customer.id)
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": pm.id})
    return customer, pm.id


# --- protocol ---------------------------------------------------------------------------------
