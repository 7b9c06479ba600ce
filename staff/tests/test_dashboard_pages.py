"""The dashboard as staff see it: the admin index summary, the full page, the period picker, CSV,
and who may open them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from audit.models import AuditEntry
from staff.models import DailyFigure, RetentionCohort
from staff.services import daily_figure_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures():
    today = timezone.localdate()
    for back in range(1, 4):
        DailyFigure.objects.create(
            day=today - timedelta(days=back),
            final=True,
            figures={
                "signups": 2,
                "mrr_cents": 192000,
                "paying_customers": 100,
                "subscriptions_by_plan": {"Pro": 7},
            },
        )
    RetentionCohort.objects.create(week_start=today - timedelta(days=today.weekday()), size=4, retained=[4])


def test_the_admin_index_shows_the_summary_above_the_app_list(staff_client, figures):
    client, _ = staff_client(superuser=True)
    UserFactory()  # a sign-up today, counted live

    page = client.get("/admin/").content.decode()

    assert "Last 30 days" in page and "Full dashboard" in page
    assert "$1,920.00" in page  # MRR, cents shown as dollars
    assert 'class="chart"' in page
    assert "Audit log" in page and "/admin/audit/auditentry/" in page
    assert "Site administration" in page or 'id="content-main"' in page  # the app list is still there


def test_the_dashboard_shows_each_figure_with_its_chart_for_the_chosen_period(staff_client, figures):
    client, _ = staff_client(superuser=True)

    page = client.get("/admin/staff/dashboard/?days=7").content.decode()

    assert 'aria-current="page" class="selected">7 days' in page
    for label in (
        "Sign-ups",
        "Daily active users",
        "MRR",
        "Churned MRR",
        "Trial-to-paid",
        "Refunds",
        "Referral-driven revenue",
    ):
        assert label in page
    assert page.count('<svg class="chart"') >= 28
    assert "Pro" in page and "Weekly retention" in page
    assert client.get("/admin/staff/dashboard/?days=13").status_code == 200  # unknown period: the default


def test_the_csv_has_one_line_per_day_of_the_period_and_is_in_the_audit_log(staff_client, figures):
    client, staff = staff_client(superuser=True)

    response = client.get("/admin/staff/dashboard.csv?days=7")

    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 7
    assert rows[-2]["signups"] == "2" and rows[-2]["mrr_cents"] == "192000"
    entry = AuditEntry.objects.get(action="staff.dashboard.export_csv")
    assert entry.actor == staff and entry.kind == "export" and entry.details == {"days": 7, "rows": 7}


def test_staff_without_the_dashboard_permission_get_neither_page_nor_summary(staff_client, figures):
    client, _ = staff_client("accounts.view_user")

    assert client.get("/admin/staff/dashboard/").status_code == 403
    assert client.get("/admin/staff/dashboard.csv").status_code == 403
    assert not AuditEntry.objects.exists()
    assert "Last 30 days" not in client.get("/admin/").content.decode()


def test_non_staff_are_sent_away(client, user, figures):
    client.force_login(user)
    assert client.get("/admin/staff/dashboard/").status_code in (302, 403)


def test_a_page_view_reads_the_stored_rows_and_counts_today_by_key_range(staff_client, figures):
    """The page's cost does not grow with the tables: the same queries with 1 or 30 stored days."""
    client, _ = staff_client("staff.view_dashboard")
    client.get("/admin/staff/dashboard/")
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/staff/dashboard/?days=30")
    today = timezone.localdate()
    daily_figure_compute(day=today - timedelta(days=4), final=True)
    for back in range(5, 31):
        DailyFigure.objects.create(day=today - timedelta(days=back), final=True, figures={"signups": 1})
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/staff/dashboard/?days=30")
    assert len(many) == len(few)
