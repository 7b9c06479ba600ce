"""Template filters for the security pages."""

from __future__ import annotations

from django import template

from accounts.devices import describe_user_agent

register = template.Library()


@register.filter
def device(user_agent: str) -> str:
    """``{{ session.user_agent|device }}`` -> "Firefox on Linux"."""
    return describe_user_agent(user_agent or "")
