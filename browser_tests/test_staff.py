"""The staff side in a real browser at both sizes: a staff member with two-factor signs in, opens
the admin index (the dashboard summary), the full dashboard and a user's 360 page."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from accounts.services import security_event_record
from accounts.tests.factories import STAFF_TOTP_SECRET
from audit.models import AuditEntry
from audit.services import audit_record
from browser_tests.conftest import Browser
from social.models import Report
from social.tests.factories import make_user
from staff.models import DailyFigure, RetentionCohort

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = STAFF_TOTP_SECRET


@pytest.fixture
def staff_world():
    # Staff get an authenticator app with STAFF_TOTP_SECRET from the factory.
    staff = make_user(email="staff@example.com", handle="staffer", is_staff=True, is_superuser=True)
    person = make_user(email="pat@example.com", handle="pat")
    other = make_user(handle="quinn")
    security_event_record(user=person, kind="login")
    Report.objects.create(
        reporter=other, target_user=person, reason="spam", comment="a very long comment " * 10
    )
    audit_record(
        actor=staff, kind=AuditEntry.Kind.ACCOUNT, action="user.note", target_user=person, reason="checked"
    )
    today = timezone.localdate()
    for back in range(1, 31):
        DailyFigure.objects.create(
            day=today - timedelta(days=back),
            final=True,
            figures={
                "signups": back % 5,
                "dau": 40 + back,
                "mrr_cents": 100000 + 500 * back,
                "paying_customers": 50,
                "subscriptions_by_plan": {"Pro": 40, "Team": 10},
            },
        )
    RetentionCohort.objects.create(
        week_start=today - timedelta(days=today.weekday() + 7), size=10, retained=[10, 4]
    )
    RetentionCohort.objects.create(week_start=today - timedelta(days=today.weekday()), size=5, retained=[5])
    return staff, person


def staff_log_in(browser: Browser) -> None:
    browser.log_in("staff@example.com")
    if "/2fa/" in browser.path:  # two-factor: the code from the authenticator app
        browser.page.locator("input[name=code]").fill(pyotp.TOTP(SECRET).now())
        with browser.page.expect_navigation():
            browser.page.locator("form button[type=submit]").first.click()
        browser.check("after the two-factor code")


def test_staff_open_the_dashboard_and_a_users_360_page(browser: Browser, staff_world):
    _, person = staff_world
    staff_log_in(browser)

    browser.goto("/admin/", name="admin index with the dashboard summary")
    assert "Last 30 days" in browser.text()
    assert "$1,005.00" in browser.text()  # yesterday's MRR

    browser.goto("/admin/staff/dashboard/?days=90", name="dashboard 90 days")
    text = browser.text()
    assert "Community" in text and "Business" in text and "Weekly retention" in text
    assert browser.page.locator("svg.chart").count() >= 28
    browser.page.get_by_role("link", name="7 days").click()
    browser.page.wait_for_load_state("load")
    browser.check("dashboard 7 days")
    assert browser.page.locator('[aria-current="page"]', has_text="7 days").count() == 1

    browser.goto(f"/admin/staff/useroverview/{person.pk}/change/", name="user 360")
    text = browser.text()
    for section in (
        "Account",
        "Two-factor",
        "Subscription",
        "Security log",
        "Reports against them",
        "Staff audit trail",
    ):
        assert section in text, section
    assert "user.note" in text
