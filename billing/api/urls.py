from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing.api import views

app_name = "billing_api"
urlpatterns: list[URLPattern | URLResolver] = [
    path("plans/", views.PlanListApi.as_view(), name="plans"),
    path("subscription/", views.SubscriptionDetailApi.as_view(), name="subscription"),
    path("subscription/cancel/", views.SubscriptionCancelApi.as_view(), name="subscription-cancel"),
    path("subscription/resume/", views.SubscriptionResumeApi.as_view(), name="subscription-resume"),
    path("subscription/change/", views.SubscriptionChangeApi.as_view(), name="subscription-change"),
    path("checkout-session/", views.CheckoutSessionCreateApi.as_view(), name="checkout-session"),
    path(
        "checkout-session/expire/", views.CheckoutSessionExpireApi.as_view(), name="checkout-session-expire"
    ),
    path("portal-session/", views.PortalSessionCreateApi.as_view(), name="portal-session"),
    path("invoices/", views.InvoiceListApi.as_view(), name="invoices"),
    path("payment-method/", views.PaymentMethodDetailApi.as_view(), name="payment-method"),
    path("entitlements/", views.EntitlementsDetailApi.as_view(), name="entitlements"),
]
