"""Presentational template filters every page may use (registered as builtins in settings)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
# (below this many seconds, count in this unit, labelled so)
_STEPS = ((HOUR, MINUTE, "min"), (DAY, HOUR, "h"), (WEEK, DAY, "d"))


@register.filter
def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    """One date format everywhere: "just now", "3 min", "5 h", "4 d", then "Mar 2" (this year)
    or "Mar 2, 2025". The full date and time belong in the ``<time>`` element's title."""
    if value is None:
        return ""
    now = now or timezone.now()
    seconds = int((now - value).total_seconds())
    if seconds < MINUTE:
        return "just now"
    for limit, unit, label in _STEPS:
        if seconds < limit:
            return f"{seconds // unit} {label}"
    local = timezone.localtime(value)
    if local.year == timezone.localtime(now).year:
        return date_format(local, "M j")
    return date_format(local, "M j, Y")


@register.filter
def full_time(value: datetime | None) -> str:
    """The full local date and time, for a ``title`` or where a relative time is not enough."""
    if value is None:
        return ""
    return date_format(timezone.localtime(value), "M j, Y, H:i")


@register.filter
def at_most(value: int | None, limit: int) -> int:
    """``value`` capped at ``limit`` (nesting depth classes stop at the deepest one styled)."""
    return min(int(value or 0), int(limit))
