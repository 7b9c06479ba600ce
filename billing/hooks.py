"""Extension points other apps plug into billing (registered in their ``AppConfig.ready``).

``register_checkout_discounts_provider(fn)``: ``fn(user)`` returns a list of Stripe
``discounts`` entries for the user's next Checkout Session (``[{"coupon": "..."}]`` or
``[{"promotion_code": "..."}]``) or ``[]``. Checkout uses the first provider that answers with a
non-empty list; Stripe forbids ``allow_promotion_codes`` together with ``discounts``, so when a
discount applies the promotion-code box is not offered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

DiscountsProvider = Callable[["User"], list[dict[str, Any]]]

_discount_providers: list[DiscountsProvider] = []


def register_checkout_discounts_provider(fn: DiscountsProvider) -> None:
    if fn not in _discount_providers:
        _discount_providers.append(fn)


def checkout_discounts_for(user: User) -> list[dict[str, Any]]:
    """The first non-empty answer of the registered providers, or []."""
    for provider in _discount_providers:
        discounts = provider(user)
        if discounts:
            return [dict(d) for d in discounts]
    return []
