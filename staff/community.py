"""Community figures: sign-ups, active users, posts, interactions and reports.

"Active" is Mastodon's measure: a user who made at least one signed-in request that day, recorded
once per user per day in ``UserActiveDay`` (by ``staff.middleware.ActivityMiddleware``; sessions
only, not API-key calls, and never while staff impersonate). WAU and MAU are the distinct users
active in the 7 and 30 days ending that day.

Counts of a day read rows by primary-key range above the previous day's high-water mark (ids grow
with creation time) and by the creation time inside that range: an index range scan on tables that
have no index on their creation time (users, likes, reposts, moderation actions).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Model, QuerySet

from accounts.models import User
from social.models import Like, ModerationAction, Post, Report, Repost
from staff.models import UserActiveDay

# Counted table -> (model, creation-time field, extra filter).
_COUNTED: dict[str, tuple[type[Model], str, Callable[[QuerySet[Any]], QuerySet[Any]]]] = {
    "signups": (User, "date_joined", lambda qs: qs),
    "posts": (Post, "created_at", lambda qs: qs.filter(reply_to__isnull=True)),
    "replies": (Post, "created_at", lambda qs: qs.filter(reply_to__isnull=False)),
    "likes": (Like, "created_at", lambda qs: qs),
    "reposts": (Repost, "created_at", lambda qs: qs),
    "reports_opened": (Report, "created_at", lambda qs: qs),
    "reports_resolved": (
        ModerationAction,
        "created_at",
        lambda qs: qs.filter(kind__in=[ModerationAction.Kind.RESOLVE, ModerationAction.Kind.DISMISS]),
    ),
}
COMMUNITY_KEYS = (*_COUNTED, "dau", "wau", "mau")


def _table_key(model: type[Model]) -> str:
    return model._meta.label_lower


def active_users(*, day: date, days: int) -> int:
    """Distinct users active in the ``days`` days ending on ``day``."""
    if days == 1:
        return UserActiveDay.objects.filter(day=day).count()
    window = UserActiveDay.objects.filter(day__gt=day - timedelta(days=days), day__lte=day)
    return window.values("user_id").distinct().count()


def community_figures(
    *, day: date, start: datetime, end: datetime, after: dict[str, int] | None, active: bool = True
) -> tuple[dict[str, Any], dict[str, int]]:
    """Every community figure of the day ``[start, end)``, and the tables' high-water marks after
    it. ``after`` holds the previous day's marks; without them the creation time alone is used
    (a table scan, once: the first day ever computed)."""
    figures: dict[str, Any] = {}
    marks = dict(after or {})
    for key, (model, time_field, narrow) in _COUNTED.items():
        table = _table_key(model)
        rows = model._default_manager.filter(**{f"{time_field}__gte": start, f"{time_field}__lt": end})
        if after and table in after:
            rows = rows.filter(pk__gt=after[table])
        result = narrow(rows).aggregate(n=Count("pk"), top=Max("pk"))
        figures[key] = result["n"]
        # Any key of this day is below every key of the next: a safe lower bound to scan from.
        marks[table] = max(marks.get(table, 0), result["top"] or 0)
    if active:
        figures.update(
            dau=active_users(day=day, days=1),
            wau=active_users(day=day, days=7),
            mau=active_users(day=day, days=30),
        )
    return figures, marks
