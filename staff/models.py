"""The staff panel's own rows: precomputed daily figures for the dashboard and the state they
are computed from (who was active on which day, each Stripe customer's last known MRR)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import User


class DailyFigure(models.Model):
    """Every dashboard figure of one day, computed by ``staff.tasks.daily_figures_update``.

    A finished day is computed once, just after it ends (``final``); today's row is provisional and
    recomputed every quarter of an hour. A page view reads these rows by the ``day`` index and
    overlays today's community counts computed live (primary-key range scans from ``high_water``).
    """

    day = models.DateField(unique=True)
    figures = models.JSONField(default=dict, help_text="Figure key -> value (counts, cents, {plan: count}).")
    # The largest primary key of each counted table when the day ended: the next day's rows are
    # those above it, so "today so far" is an index range scan, never a table scan.
    high_water = models.JSONField(default=dict)
    final = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("day",)
        permissions = [("view_dashboard", "Can view the staff dashboard")]

    def __str__(self) -> str:
        return f"figures of {self.day}"


class UserActiveDay(models.Model):
    """A user made at least one signed-in request on that day (Mastodon's "active user"); written
    at most once per user per day by ``staff.middleware.ActivityMiddleware``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "user"], name="staff_activeday_once")]
        indexes = [models.Index(fields=["user", "day"], name="staff_activeday_user")]

    def __str__(self) -> str:
        return f"{self.user_id} active on {self.day}"


class CustomerMrr(models.Model):
    """A Stripe customer's monthly recurring revenue when the last day was closed: comparing it
    with the next day's tells new, expansion, contraction, churn and reactivation apart."""

    customer_id = models.CharField(max_length=255, primary_key=True)
    mrr_cents = models.BigIntegerField(default=0)
    ever_paid = models.BooleanField(default=False)
    updated_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.mrr_cents}"


class RetentionCohort(models.Model):
    """Users who signed up in one week, and how many of them were active in each later week."""

    week_start = models.DateField(unique=True)
    size = models.PositiveIntegerField(default=0)
    retained = models.JSONField(default=list, help_text="Active users in week 0, 1, 2, … after sign-up.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-week_start",)

    def __str__(self) -> str:
        return f"cohort of {self.week_start}"


class UserOverview(User):
    """The staff view of one user ("user 360") in the admin, and the impersonation permission."""

    class Meta:
        proxy = True
        verbose_name = "user 360"
        verbose_name_plural = "users 360"
        permissions = [("impersonate_user", "Can sign in as a user for support (impersonate)")]
