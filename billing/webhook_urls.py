"""Stripe's webhook route, under dj-stripe's namespace and route name
(``djstripe:djstripe_webhook_by_uuid``) so existing endpoint rows keep their URL."""

from __future__ import annotations

from django.urls import path

from billing.webhook_intake import WebhookIntakeView

urlpatterns = [
    path("webhook/<uuid:uuid>/", WebhookIntakeView.as_view(), name="djstripe_webhook_by_uuid"),
]
