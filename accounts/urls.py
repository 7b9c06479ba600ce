from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from accounts import views
from accounts.views import security as security_views
from accounts.views.unsubscribe import email_unsubscribe

app_name = "accounts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.settings_index, name="settings_index"),
    path("profile/", views.profile_edit, name="profile_edit"),
    path("notifications/", views.notifications_edit, name="notifications_edit"),
    path("account/", views.account_settings, name="account_settings"),
    path("account/export/", views.account_export_download, name="account_export"),
    path("account/delete/", views.account_delete_confirm, name="account_delete"),
    path("security/", security_views.security_log, name="security_log"),
    path("notifications/unsubscribe/<str:token>/", email_unsubscribe, name="email_unsubscribe"),
    path("sessions/<int:session_id>/end/", security_views.session_end, name="session_end"),
]
