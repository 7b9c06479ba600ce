"""Writes of the staff panel: the daily figures, the activity they count, the retention cohorts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from accounts.models import User
from staff.business import business_figures
from staff.community import community_figures
from staff.models import DailyFigure, RetentionCohort, UserActiveDay

# How many finished days a first run fills in (later runs close only the days since the last one).
BACKFILL_DAYS = 35
COHORT_WEEKS = 12


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day ``[start, end)`` in the project's time zone."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def today() -> date:
    return timezone.localdate(timezone=timezone.get_default_timezone())


def user_activity_mark(*, user_id: int, day: date | None = None) -> None:
    """Records that the user was active on ``day`` (today by default). A cache key makes every
    request after the first of the day free; the unique constraint makes a race harmless."""
    day = day or today()
    if not cache.add(f"staff:active:{day.isoformat()}:{user_id}", 1, timeout=26 * 3600):
        return
    UserActiveDay.objects.bulk_create([UserActiveDay(user_id=user_id, day=day)], ignore_conflicts=True)


def _previous_high_water(day: date) -> dict[str, int] | None:
    previous = DailyFigure.objects.filter(day=day - timedelta(days=1), final=True).first()
    return previous.high_water if previous else None


@transaction.atomic
def daily_figure_compute(*, day: date, final: bool) -> DailyFigure:
    """Computes and stores every figure of ``day``. ``final`` closes a finished day: it stores the
    tables' high-water marks and each customer's MRR, which the next day is measured against.
    Call a final run once per day, in date order (``daily_figures_update`` does)."""
    start, end = day_bounds(day)
    figures: dict[str, Any]
    figures, marks = community_figures(day=day, start=start, end=end, after=_previous_high_water(day))
    figures.update(business_figures(day=day, start=start, end=end, final=final))
    row, _ = DailyFigure.objects.update_or_create(
        day=day,
        defaults={
            "figures": figures,
            "high_water": marks if final else {},
            "final": final,
            "computed_at": timezone.now(),
        },
    )
    return row


def retention_cohorts_update(
    *, weeks: int = COHORT_WEEKS, until: date | None = None
) -> list[RetentionCohort]:
    """Recomputes the weekly sign-up cohorts of the last ``weeks`` weeks: their size and how many
    of each were active in each week since (one grouped query over the activity of those weeks)."""
    until = until or today()
    first_week = until - timedelta(days=until.weekday() + 7 * (weeks - 1))
    first_start, _ = day_bounds(first_week)
    sizes = dict(
        User.objects.filter(date_joined__gte=first_start)
        .annotate(week=TruncWeek("date_joined"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )
    active = (
        UserActiveDay.objects.filter(day__gte=first_week, user__date_joined__gte=first_start)
        .annotate(cohort=TruncWeek("user__date_joined"), week=TruncWeek("day"))
        .values("cohort", "week")
        .annotate(n=Count("user_id", distinct=True))
    )
    retained: dict[date, dict[int, int]] = {}
    for row in active:
        cohort_week = _as_date(row["cohort"])
        retained.setdefault(cohort_week, {})[(_as_date(row["week"]) - cohort_week).days // 7] = row["n"]
    cohorts: list[RetentionCohort] = []
    with transaction.atomic():
        for offset in range(weeks):
            week = first_week + timedelta(weeks=offset)
            size = next((n for w, n in sizes.items() if _as_date(w) == week), 0)
            counts = retained.get(week, {})
            cohort, _ = RetentionCohort.objects.update_or_create(
                week_start=week,
                defaults={
                    "size": size,
                    "retained": [counts.get(k, 0) for k in range(weeks - offset)],
                    "computed_at": timezone.now(),
                },
            )
            cohorts.append(cohort)
    return cohorts


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).date()
    return value


def daily_figures_update(*, now: datetime | None = None, backfill_days: int = BACKFILL_DAYS) -> list[date]:
    """Closes every finished day not yet final (in order), then
    recomputes today's provisional row and the retention cohorts. Run by Celery beat.
    The first run ever fills ``backfill_days`` finished days."""
    current = timezone.localdate(now, timezone.get_default_timezone()) if now else today()
    last_final = DailyFigure.objects.filter(final=True, day__lt=current).order_by("-day").first()
    day = last_final.day + timedelta(days=1) if last_final else current - timedelta(days=backfill_days)
    closed = []
    while day < current:
        daily_figure_compute(day=day, final=True)
        closed.append(day)
        day += timedelta(days=1)
    daily_figure_compute(day=current, final=False)
    retention_cohorts_update(until=current)
    return closed
