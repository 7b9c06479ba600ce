from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing import views

app_name = "billing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.billing_settings, name="settings"),
    path("pricing/", views.pricing, name="pricing"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("checkout/cancel/", views.checkout_cancel, name="checkout-cancel"),
    path("success/", views.success, name="success"),
    path("cancel/", views.cancel, name="cancel"),
    path("resume/", views.resume, name="resume"),
    path("change/", views.change, name="change"),
    path("portal/", views.portal, name="portal"),
]
