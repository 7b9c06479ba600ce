"""The dashboard's figures against a fixture computed by hand: subscriptions start, upgrade,
downgrade, churn and come back across the end of January; people sign up, post, like, repost,
report and come back. Each day is closed in order, as the beat task does just after midnight."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from referrals.models import Referral
from social.models import Like, ModerationAction, Post, Report, Repost
from staff.dashboard import FIGURES_BY_KEY, dashboard_rows, headline
from staff.models import DailyFigure, RetentionCohort, UserActiveDay
from staff.services import daily_figure_compute, daily_figures_update, day_bounds, retention_cohorts_update
from staff.tests import stripe_rows as s

pytestmark = pytest.mark.django_db

JAN30, JAN31, FEB1, FEB2 = date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)


def at(day: date, hour: int = 12) -> datetime:
    return day_bounds(day)[0] + timedelta(hours=hour)


@pytest.fixture
def catalogue():
    pro, team = s.product("Pro"), s.product("Team")
    return {
        "pro": s.price(pro, cents=1000),
        "team": s.price(team, cents=3000),
        "pro_year": s.price(pro, cents=9600, interval="year"),  # 800 a month
    }


def close(day: date) -> dict:
    return daily_figure_compute(day=day, final=True).figures


def test_mrr_and_its_movements_across_a_month_end(catalogue):
    ann, ben, cat, dan = (UserFactory(handle=h) for h in ("ann", "ben", "cat", "dan"))
    a, b, c, d = (s.customer(u) for u in (ann, ben, cat, dan))
    Referral.objects.create(referrer=ann, referred=dan, code="ANN", source=Referral.Source.LINK)

    # 30 Jan: Ann on Pro (10), Ben on Team (30), Cat starts a Pro trial.
    sub_a = s.subscription("sub_a", a, catalogue["pro"], status="active")
    sub_b = s.subscription("sub_b", b, catalogue["team"], status="active")
    sub_c = s.subscription(
        "sub_c", c, catalogue["pro"], status="trialing", trial_start=s.ts(at(JAN30)), trial_end=s.ts(at(FEB1))
    )
    jan30 = close(JAN30)
    assert (jan30["mrr_cents"], jan30["mrr_new_cents"], jan30["customers_new"]) == (4000, 4000, 2)
    assert (jan30["paying_customers"], jan30["trial_starts"], jan30["trialing"]) == (2, 1, 1)
    assert jan30["subscriptions_by_plan"] == {"Pro": 2, "Team": 1}

    # 31 Jan: Ann upgrades to Team (+20), Ben moves to Pro yearly (30 -> 8), Dan starts Pro yearly
    # (+8, new). Ann and Dan pay their invoices; Dan was referred by Ann.
    s.subscription_change(sub_a, price_row=catalogue["team"])
    s.subscription_change(sub_b, price_row=catalogue["pro_year"])
    s.subscription("sub_d", d, catalogue["pro_year"], status="active")
    s.invoice_paid("in_a", a, cents=2000, paid_at=at(JAN31))
    s.invoice_paid("in_d", d, cents=9600, paid_at=at(JAN31))
    jan31 = close(JAN31)
    assert jan31["mrr_cents"] == 4000 + 800 + 2000 - 2200 == 4600
    assert (jan31["mrr_new_cents"], jan31["mrr_expansion_cents"], jan31["mrr_contraction_cents"]) == (
        800,
        2000,
        2200,
    )
    assert (jan31["revenue_cents"], jan31["referral_revenue_cents"]) == (11600, 9600)

    # 1 Feb: Ben cancels (-8, churned); Cat's trial ends and she pays (+10, new); a renewal of Ann
    # fails once, another charge is refunded (5) and disputed (10).
    s.subscription_change(sub_b, status="canceled", ended_at=s.ts(at(FEB1)))
    s.subscription_change(sub_c, status="active")
    failed = s.charge("ch_fail", a, cents=3000, status="failed", created=at(FEB1))
    paid = s.charge("ch_paid", d, cents=9600, status="succeeded", created=at(JAN31))
    s.refund("re_1", paid, cents=500, created=at(FEB1))
    s.dispute("dp_1", paid, cents=1000, created=at(FEB1, 13))
    assert failed.pk
    feb1 = close(FEB1)
    assert feb1["mrr_cents"] == 4600 + 1000 - 800 == 4800
    assert (feb1["mrr_churned_cents"], feb1["customers_churned"], feb1["mrr_new_cents"]) == (800, 1, 1000)
    assert (feb1["trials_ended"], feb1["trials_converted"]) == (1, 1)
    assert (feb1["failed_payments"], feb1["refunds_cents"], feb1["disputes_cents"]) == (1, 500, 1000)

    # 2 Feb: Ben comes back on Pro monthly (+10, a reactivation, not new); Ann is past due but in
    # grace: still counted.
    s.subscription("sub_b2", b, catalogue["pro"], status="active")
    s.subscription_change(sub_a, status="past_due")
    feb2 = close(FEB2)
    assert feb2["mrr_cents"] == 5800
    assert (feb2["mrr_reactivation_cents"], feb2["customers_reactivated"], feb2["mrr_new_cents"]) == (
        1000,
        1,
        0,
    )

    rows = dashboard_rows(days=3, until=FEB2)  # 31 Jan - 2 Feb, with 30 Jan as the lead-in
    by_day = {row["day"]: row for row in rows}
    assert by_day[FEB1]["churn_rate"] == 33.3  # 1 of the 3 paying on 31 Jan
    assert by_day[FEB1]["trial_conversion"] == 100.0
    assert by_day[FEB2]["arpu_cents"] == 5800 // 4
    assert headline(FIGURES_BY_KEY["mrr_cents"], rows) == 5800
    assert headline(FIGURES_BY_KEY["mrr_new_cents"], rows) == 800 + 1000
    assert headline(FIGURES_BY_KEY["churn_rate"], rows) == 50.0  # 1 churned of 2 paying on 30 Jan
    assert headline(FIGURES_BY_KEY["revenue_cents"], rows) == 11600


def test_community_figures_and_active_users_by_day():
    # Rows are made in time order, as in production (keys grow with creation time).
    early = [UserFactory(date_joined=at(JAN30)) for _ in range(3)]
    post = Post.objects.create(author=early[0], text="hello", created_at=at(JAN30))
    Post.objects.create(author=early[1], text="re", reply_to=post, root=post, created_at=at(JAN30, 13))
    Like.objects.create(user=early[1], post=post, created_at=at(JAN30, 14))
    report = Report.objects.create(
        reporter=early[2], target_user=early[0], reason="spam", created_at=at(JAN30, 15)
    )
    for user in early:
        UserActiveDay.objects.create(user=user, day=JAN30)
    jan30 = close(JAN30)

    late = UserFactory(date_joined=at(JAN31))
    Post.objects.create(author=late, text="first", created_at=at(JAN31))
    Repost.objects.create(user=late, post=post, created_at=at(JAN31, 13))
    Like.objects.create(user=late, post=post, created_at=at(JAN31, 14))
    ModerationAction.objects.create(
        kind=ModerationAction.Kind.RESOLVE, report=report, created_at=at(JAN31, 15)
    )
    ModerationAction.objects.create(
        kind=ModerationAction.Kind.WARN, target_user=early[0], created_at=at(JAN31, 15)
    )
    UserActiveDay.objects.create(user=early[0], day=JAN31)
    UserActiveDay.objects.create(user=late, day=JAN31)
    jan31 = close(JAN31)

    assert {k: jan30[k] for k in ("signups", "posts", "replies", "likes", "reposts", "reports_opened")} == {
        "signups": 3, "posts": 1, "replies": 1, "likes": 1, "reposts": 0, "reports_opened": 1,
    }  # fmt: skip
    assert (jan30["dau"], jan30["wau"], jan30["mau"]) == (3, 3, 3)
    assert {k: jan31[k] for k in ("signups", "posts", "replies", "likes", "reposts", "reports_resolved")} == {
        "signups": 1, "posts": 1, "replies": 0, "likes": 1, "reposts": 1, "reports_resolved": 1,
    }  # fmt: skip
    assert (jan31["dau"], jan31["wau"], jan31["mau"]) == (2, 4, 4)


def test_retention_cohorts_count_each_week_after_sign_up():
    monday = date(2026, 1, 5)
    cohort = [UserFactory(date_joined=at(monday)) for _ in range(4)]
    for user in cohort:
        UserActiveDay.objects.create(user=user, day=monday)
    for user in cohort[:2]:
        UserActiveDay.objects.create(user=user, day=monday + timedelta(days=8))
    UserActiveDay.objects.create(user=cohort[0], day=monday + timedelta(days=15))

    retention_cohorts_update(weeks=3, until=monday + timedelta(days=16))

    row = RetentionCohort.objects.get(week_start=monday)
    assert (row.size, row.retained) == (4, [4, 2, 1])


def test_the_beat_task_closes_each_missing_day_once_then_keeps_today_provisional():
    now = timezone.now()
    closed = daily_figures_update(now=now, backfill_days=3)
    assert len(closed) == 3
    assert daily_figures_update(now=now, backfill_days=3) == []
    today = timezone.localdate(now)
    assert DailyFigure.objects.get(day=today).final is False
    assert DailyFigure.objects.filter(final=True).count() == 3
