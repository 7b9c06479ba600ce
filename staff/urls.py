"""Staff pages, under /admin/staff/ (beside the admin's own pages for the staff app)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("dashboard.csv", admin.site.admin_view(views.dashboard_csv), name="dashboard-csv"),
    path(
        "user/<int:user_id>/impersonate/",
        admin.site.admin_view(views.impersonation_begin),
        name="impersonate",
    ),
    # Not an admin view: while impersonating, the session is the (non-staff) user's.
    path("impersonation/stop/", views.impersonation_end, name="impersonation-stop"),
]
