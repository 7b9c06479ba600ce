"""Template helpers of the staff panel: money and figure formatting, the index summary."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

from staff.charts import line_chart
from staff.dashboard import FIGURES_BY_KEY, Figure, dashboard_rows, headline

register = template.Library()

SUMMARY_KEYS = (
    "signups",
    "dau",
    "mau",
    "posts",
    "mrr_cents",
    "paying_customers",
    "churn_rate",
    "reports_opened",
)


@register.filter
def cents(value: Any, currency: str = "usd") -> str:
    """Cents as money: 1920 -> "$19.20" (other currencies as "19.20 EUR")."""
    amount = int(value or 0) / 100
    text = f"{amount:,.2f}"
    return f"${text}" if (currency or "usd").lower() == "usd" else f"{text} {currency.upper()}"


@register.filter
def figure_value(value: Any, figure: Figure) -> str:
    """A figure's value as the dashboard shows it."""
    if value is None:
        return "—"
    if figure.unit == "cents":
        return cents(value)
    if figure.unit == "percent":
        return f"{value}%"
    return str(intcomma(value))


@register.inclusion_tag("admin/staff/_summary.html", takes_context=True)
def staff_dashboard_summary(context: dict[str, Any]) -> dict[str, Any]:
    """The last 30 days' main figures on the admin index (for staff who may see the dashboard)."""
    request = context["request"]
    if not request.user.has_perm("staff.view_dashboard"):
        return {"allowed": False}
    rows = dashboard_rows(days=30)
    cards = []
    for key in SUMMARY_KEYS:
        figure = FIGURES_BY_KEY[key]
        series = [row.get(key) for row in rows[1:]]
        cards.append(
            {
                "figure": figure,
                "value": headline(figure, rows),
                "chart": line_chart(series, label=figure.label),
            }
        )
    return {"allowed": True, "cards": cards}
