"""Template helpers of billing: money formatting and the past-due banner for base.html."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.cache import cache

from accounts.models import User
from billing.selectors import subscription_get_current_for_user, subscription_status
from billing.statuses import GRACE_STATUS

register = template.Library()

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


@register.filter
def money(cents: Any, currency: str = "usd") -> str:
    """``1999|money:"usd"`` → ``$19.99``; negative amounts are credits (``-$5.00``)."""
    try:
        value = int(cents) / 100
    except (TypeError, ValueError):
        return ""
    code = (currency or "usd").lower()
    symbol = _SYMBOLS.get(code)
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.2f}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {code.upper()}"


def _past_due(user_id: int) -> bool:
    """Whether the user's subscription is past due (cached with the entitlements' lifetime)."""
    key = f"billing:past-due:{user_id}"
    cached = cache.get(key)
    if cached is None:
        user = User(pk=user_id)
        subscription = subscription_get_current_for_user(user=user)
        cached = bool(subscription is not None and subscription_status(subscription) == GRACE_STATUS)
        cache.set(key, cached, 300)
    return bool(cached)


@register.inclusion_tag("billing/_banner.html", takes_context=True)
def billing_banner(context: template.Context) -> dict[str, Any]:
    """The past-due banner with an update-card link, for ``{% block banner %}`` in base.html."""
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(user is not None and user.is_authenticated and _past_due(user.pk))
    return {"show": show}
