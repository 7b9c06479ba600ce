"""What the dashboard shows: each figure as a daily series over a period, with its headline
number. Reads only ``DailyFigure`` rows (by the ``day`` index) plus today's community counts,
computed live above yesterday's high-water marks (primary-key range scans)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from staff.community import active_users, community_figures
from staff.models import DailyFigure, RetentionCohort
from staff.services import day_bounds, today

PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str = "count"  # count | cents | percent
    total: str = "sum"  # sum: added over the period; last: the level on the last day
    group: str = "community"
    help: str = ""


FIGURES: tuple[Figure, ...] = (
    Figure("signups", "Sign-ups"),
    Figure("dau", "Daily active users", total="last", help="Users who made a signed-in request that day."),
    Figure("wau", "Weekly active users", total="last", help="Distinct active users over 7 days."),
    Figure("mau", "Monthly active users", total="last", help="Distinct active users over 30 days."),
    Figure("posts", "Posts"),
    Figure("replies", "Replies"),
    Figure("likes", "Likes"),
    Figure("reposts", "Reposts"),
    Figure("reports_opened", "Reports opened"),
    Figure("reports_resolved", "Reports resolved", help="Reports resolved or dismissed by a moderator."),
    Figure("mrr_cents", "MRR", unit="cents", total="last", group="business"),
    Figure("mrr_new_cents", "New MRR", unit="cents", group="business"),
    Figure("mrr_expansion_cents", "Expansion MRR", unit="cents", group="business"),
    Figure("mrr_contraction_cents", "Contraction MRR", unit="cents", group="business"),
    Figure("mrr_churned_cents", "Churned MRR", unit="cents", group="business"),
    Figure("mrr_reactivation_cents", "Reactivation MRR", unit="cents", group="business"),
    Figure("paying_customers", "Paying customers", total="last", group="business"),
    Figure(
        "arpu_cents", "ARPU", unit="cents", total="last", group="business", help="MRR per paying customer."
    ),
    Figure(
        "churn_rate",
        "Customer churn rate",
        unit="percent",
        total="rate",
        group="business",
        help="Customers whose MRR went to zero, over paying customers at the start.",
    ),
    Figure("subscriptions_live", "Live subscriptions", total="last", group="business"),
    Figure("trial_starts", "Trial starts", group="business"),
    Figure(
        "trial_conversion",
        "Trial-to-paid",
        unit="percent",
        total="rate",
        group="business",
        help="Trials that ended paying, over trials that ended.",
    ),
    Figure("failed_payments", "Failed payments", group="business"),
    Figure("accounts_in_grace", "Accounts in grace", total="last", group="business"),
    Figure("refunds_cents", "Refunds", unit="cents", group="business"),
    Figure("disputes_cents", "Disputes", unit="cents", group="business"),
    Figure("revenue_cents", "Revenue collected", unit="cents", group="business"),
    Figure("referral_revenue_cents", "Referral-driven revenue", unit="cents", group="business"),
)
FIGURES_BY_KEY = {f.key: f for f in FIGURES}


def period_from(value: Any) -> int:
    """The period asked for (7/30/90/365 days), the default for anything else."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def _live_today(day: date, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Today's row: the provisional business figures, community counts computed now."""
    start, end = day_bounds(day)
    yesterday = DailyFigure.objects.filter(day=day - timedelta(days=1), final=True).only("high_water").first()
    figures = dict(stored or {})
    live, _ = community_figures(
        day=day, start=start, end=end, after=yesterday.high_water if yesterday else None, active=False
    )
    figures.update(live)
    figures["dau"] = active_users(day=day, days=1)
    return figures


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def _derive(rows: list[dict[str, Any]]) -> None:
    """Adds the per-day ratios (ARPU, churn rate, trial conversion) to each row."""
    previous_paying = 0
    for row in rows:
        paying = row.get("paying_customers") or 0
        row["arpu_cents"] = round((row.get("mrr_cents") or 0) / paying) if paying else None
        row["churn_rate"] = _ratio(row.get("customers_churned") or 0, previous_paying)
        row["trial_conversion"] = _ratio(row.get("trials_converted") or 0, row.get("trials_ended") or 0)
        previous_paying = paying or previous_paying


def dashboard_rows(*, days: int, until: date | None = None) -> list[dict[str, Any]]:
    """One dict per day of the period (oldest first, today last), every figure in it (0 where a
    day has no row yet), plus the day before the period for the ratios' starting point."""
    until = until or today()
    first = until - timedelta(days=days)  # one day before the period: churn's denominator
    stored = {row.day: row.figures for row in DailyFigure.objects.filter(day__gte=first, day__lte=until)}
    rows: list[dict[str, Any]] = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        figures = _live_today(day, stored.get(day)) if day == today() else dict(stored.get(day) or {})
        if day == today() and rows:
            # Until the first provisional run of the day, levels stay at yesterday's.
            for figure in FIGURES:
                if figure.total == "last" and figure.key not in figures and figure.key in rows[-1]:
                    figures[figure.key] = rows[-1][figure.key]
        rows.append({"day": day, **figures})
    _derive(rows)
    return rows


def headline(figure: Figure, rows: list[dict[str, Any]]) -> float | int | None:
    """The number beside a figure's chart, over the period (``rows`` without the lead-in day)."""
    if figure.total == "last":  # the latest day that has it (today's may not be computed yet)
        return next((r[figure.key] for r in reversed(rows) if r.get(figure.key) is not None), 0)
    if figure.key == "churn_rate":
        start_paying = rows[0].get("paying_customers") or 0
        return _ratio(sum(r.get("customers_churned") or 0 for r in rows[1:]), start_paying)
    if figure.key == "trial_conversion":
        ended = sum(r.get("trials_ended") or 0 for r in rows[1:])
        return _ratio(sum(r.get("trials_converted") or 0 for r in rows[1:]), ended)
    return sum(r.get(figure.key) or 0 for r in rows[1:])


def plans_latest(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Live subscriptions by plan on the last day with figures."""
    for row in reversed(rows):
        if row.get("subscriptions_by_plan"):
            return sorted(row["subscriptions_by_plan"].items(), key=lambda kv: -kv[1])
    return []


def cohort_table(*, weeks: int = 12) -> list[dict[str, Any]]:
    """The weekly retention cohorts, newest first, with each later week as a percentage."""
    table = []
    for cohort in RetentionCohort.objects.all()[:weeks]:
        cells = [_ratio(n, cohort.size) for n in cohort.retained]
        table.append({"week_start": cohort.week_start, "size": cohort.size, "cells": cells})
    return table


CSV_COLUMNS = tuple(f.key for f in FIGURES) + (
    "customers_new",
    "customers_churned",
    "customers_reactivated",
    "trials_ended",
    "trials_converted",
    "trialing",
    "refunds",
    "disputes",
)
