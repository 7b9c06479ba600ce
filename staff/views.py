"""Staff pages inside the admin: the dashboard (and its CSV, recorded in the audit log), and starting or ending an
impersonation. Thin: each parses its input and calls one selector or service."""

from __future__ import annotations

import csv
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.auth import request_user
from accounts.models import User
from audit.models import AuditEntry
from audit.services import audit_record
from staff.charts import line_chart
from staff.dashboard import (
    CSV_COLUMNS,
    FIGURES,
    PERIODS,
    cohort_table,
    dashboard_rows,
    headline,
    period_from,
    plans_latest,
)
from staff.forms import ImpersonationForm
from staff.impersonation import (
    ImpersonationRefused,
    impersonation_refusal,
    impersonation_start,
    impersonation_stop,
)

DASHBOARD_PERMISSION = "staff.view_dashboard"


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def dashboard_cards(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each figure's number over the period and its chart, grouped as the page shows them."""
    groups: dict[str, list[dict[str, Any]]] = {"community": [], "business": []}
    for figure in FIGURES:
        series = [row.get(figure.key) for row in rows[1:]]
        groups[figure.group].append(
            {
                "figure": figure,
                "value": headline(figure, rows),
                "chart": line_chart(series, label=f"{figure.label}, daily"),
            }
        )
    return groups


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request, DASHBOARD_PERMISSION)
    days = period_from(request.GET.get("days"))
    rows = dashboard_rows(days=days)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "days": days,
        "periods": PERIODS,
        "groups": dashboard_cards(rows),
        "plans": plans_latest(rows),
        "cohorts": cohort_table(),
        "first_day": rows[1]["day"],
        "last_day": rows[-1]["day"],
    }
    return render(request, "admin/staff/dashboard.html", context)


@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    _require(request, DASHBOARD_PERMISSION)
    days = period_from(request.GET.get("days"))
    rows = dashboard_rows(days=days)[1:]
    audit_record(
        actor=request_user(request),
        kind=AuditEntry.Kind.EXPORT,
        action="staff.dashboard.export_csv",
        details={"days": days, "rows": len(rows)},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{days}d-{rows[-1]["day"]}.csv"'
    writer = csv.writer(response)
    writer.writerow(["day", *CSV_COLUMNS])
    for row in rows:
        writer.writerow([row["day"].isoformat(), *(_csv_value(row.get(key)) for key in CSV_COLUMNS)])
    return response


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


@require_http_methods(["GET", "POST"])
def impersonation_begin(request: HttpRequest, user_id: int) -> HttpResponseBase:
    """GET: the reason form. POST: checks, then signs this session in as the user."""
    target = get_object_or_404(User, pk=user_id)
    staff = request_user(request)
    refusal = impersonation_refusal(hijacker=staff, hijacked=target)
    form = ImpersonationForm(request.POST or None)
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            impersonation_start(
                request=request, hijacker=staff, hijacked=target, reason=form.cleaned_data["reason"]
            )
        except ImpersonationRefused as exc:
            refusal = str(exc)
        else:
            return redirect(settings.LOGIN_REDIRECT_URL)
    context = {
        **admin.site.each_context(request),
        "title": f"Impersonate @{target.handle}",
        "target": target,
        "form": form,
        "refusal": refusal,
        "minutes": settings.STAFF_IMPERSONATION_MINUTES,
    }
    status = 403 if refusal else (400 if request.method == "POST" else 200)
    return render(request, "admin/staff/impersonate.html", context, status=status)


@require_POST
def impersonation_end(request: HttpRequest) -> HttpResponseBase:
    """The banner's exit button: back to the staff member, on the user's 360 page."""
    target = impersonation_stop(request=request)
    if target is None:
        return redirect("/")
    messages.success(request, f"You are yourself again: the impersonation of @{target.handle} has ended.")
    return redirect("admin:staff_useroverview_change", target.pk)
