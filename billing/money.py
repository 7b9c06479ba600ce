"""Money as staff and users read it: Stripe's integer minor units turned into a currency amount.

Stripe sends every amount in the currency's smallest unit (cents for USD, yen for JPY). dj-stripe
2.11 keeps most of them that way in ``stripe_data`` but some of its own labels treat them as major
units (``Invoice.__str__`` shows a $19.20 invoice as "$1,920.00"), so the project formats amounts
here, once, and never through dj-stripe's helpers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# Stripe's zero-decimal currencies: the amount is already in major units.
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "$", "aud": "$", "jpy": "¥"}


def _exponent(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def money_major(amount_minor: int, currency: str) -> Decimal:
    """``1920, "usd"`` → ``Decimal("19.20")``."""
    exponent = _exponent(currency)
    return (Decimal(amount_minor) / (10**exponent)).quantize(Decimal(1).scaleb(-exponent))


def money_minor(amount_major: Any, currency: str) -> int:
    """``"19.20", "usd"`` → ``1920``; raises ValueError for anything that is not such an amount
    (more decimals than the currency has, not a number)."""
    try:
        value = Decimal(str(amount_major).strip())
    except InvalidOperation as exc:
        raise ValueError("Not an amount.") from exc
    scaled = value.scaleb(_exponent(currency))
    if not value.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError("Too many decimals for this currency.")
    return int(scaled)


def money_format(amount_minor: Any, currency: str | None) -> str:
    """``1920, "usd"`` → ``"$19.20 USD"``; ``-500`` → ``"-$5.00 USD"``; "" for no amount."""
    if amount_minor is None or amount_minor == "":
        return ""
    code = (currency or "usd").lower()
    try:
        major = money_major(int(amount_minor), code)
    except (TypeError, ValueError):
        return ""
    sign = "-" if major < 0 else ""
    places = _exponent(code)
    return f"{sign}{_SYMBOLS.get(code, '')}{abs(major):,.{places}f} {code.upper()}"
