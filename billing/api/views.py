"""Billing API for the SPA, under ``/api/v1/billing/``.

API keys may read billing (scope ``billing:read``) but never change it: every write side is None.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from billing import checkout, presenters, selectors, services
from billing.api.serializers import (
    ChangePreviewOutputSerializer,
    CheckoutExpireOutputSerializer,
    CheckoutSessionInputSerializer,
    EntitlementsOutputSerializer,
    InvoiceOutputSerializer,
    PaymentMethodOutputSerializer,
    PlanOutputSerializer,
    RedirectOutputSerializer,
    SubscriptionChangeInputSerializer,
    SubscriptionOutputSerializer,
)
from billing.entitlements import entitlements_get_for_user
from config.api import DefaultCursorPagination, api_error
from config.errors import NotFoundError
from config.scopes import RequiredScopes

SCOPES = RequiredScopes(read="billing:read")

AUTH_ERRORS = {
    401: api_error("Not signed in."),
    403: api_error("API keys cannot use this operation, or scope missing."),
}
STRIPE_ERRORS = {503: api_error("Billing unavailable (payment provider unreachable).")}


def _price_out(price: Any) -> dict[str, Any] | None:
    if price is None:
        return None
    return {
        "id": price.id,
        "interval": (price.recurring or {}).get("interval", ""),
        "amount": int(price.unit_amount or 0),
        "currency": price.currency,
    }


def plans_out(*, current: str) -> list[dict[str, Any]]:
    return [
        {
            "code": entry.plan.code,
            "name": entry.plan.name,
            "trial_days": entry.plan.trial_days,
            "features": entry.plan.features,
            "limits": entry.plan.limits,
            "monthly": _price_out(entry.monthly),
            "yearly": _price_out(entry.yearly),
            "is_current": entry.plan.code == current,
        }
        for entry in selectors.plan_list_on_sale()
    ]


class PlanListApi(APIView):
    """The plans on sale, free first, with their limits and prices."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_plans_list",
        summary="Plans",
        description="Scope: `billing:read`.",
        responses={200: PlanOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        current = entitlements_get_for_user(user=request_user(request)).plan
        return Response(PlanOutputSerializer(plans_out(current=current), many=True).data)


class SubscriptionDetailApi(APIView):
    """The user's current subscription."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_subscription_retrieve",
        summary="Your subscription",
        description="Scope: `billing:read`. 404 `no_subscription` when you are on the free plan.",
        responses={200: SubscriptionOutputSerializer, 404: api_error("No subscription."), **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        summary = presenters.subscription_summary(user=request_user(request))
        if summary is None:
            raise NotFoundError("You have no subscription.", code="no_subscription")
        return Response(SubscriptionOutputSerializer(summary).data)


class CheckoutSessionCreateApi(APIView):
    """Starts a Stripe Checkout for a plan price; the client redirects to the returned URL."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_checkout_session_create",
        summary="Start a checkout",
        description=(
            "Session only (API keys cannot subscribe). Redirect the browser to `url`. "
            "An open checkout for the same price is returned again (one checkout at a time). "
            "404 `unknown_price`; 409 `already_subscribed` (change plan instead) or "
            "`checkout_in_progress` (another price's checkout is open: finish it, or cancel it "
            "with `POST /api/v1/billing/checkout-session/expire/`)."
        ),
        request=CheckoutSessionInputSerializer,
        responses={
            201: RedirectOutputSerializer,
            400: api_error("Invalid input."),
            404: api_error("Unknown price."),
            409: api_error("Already subscribed, or another checkout is open."),
            **AUTH_ERRORS,
            **STRIPE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = CheckoutSessionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        url = checkout.checkout_session_create(
            user=request_user(request), price_id=data.validated_data["price_id"]
        )
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class CheckoutSessionExpireApi(APIView):
    """Cancels the user's open checkouts, so another plan can be chosen."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_checkout_session_expire",
        summary="Cancel open checkouts",
        description="Session only. Expires every open Checkout Session of yours; `expired` says how many.",
        request=None,
        responses={200: CheckoutExpireOutputSerializer, **AUTH_ERRORS, **STRIPE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        expired = checkout.checkout_sessions_expire(user=request_user(request))
        return Response(CheckoutExpireOutputSerializer({"expired": expired}).data)


class PortalSessionCreateApi(APIView):
    """Opens Stripe's customer portal (card, invoices, cancellation)."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_portal_session_create",
        summary="Open the customer portal",
        description="Session only. 409 `no_customer` before the first checkout.",
        request=None,
        responses={
            201: RedirectOutputSerializer,
            409: api_error("No billing account."),
            **AUTH_ERRORS,
            **STRIPE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        url = services.portal_session_create(user=request_user(request))
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class SubscriptionCancelApi(APIView):
    """Cancels at the end of the paid period."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_subscription_cancel",
        summary="Cancel at period end",
        description="Session only. 409 `not_active` or `already_canceling`.",
        request=None,
        responses={
            200: SubscriptionOutputSerializer,
            409: api_error("Nothing to cancel."),
            **AUTH_ERRORS,
            **STRIPE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        services.subscription_cancel(user=request_user(request))
        return Response(
            SubscriptionOutputSerializer(presenters.subscription_summary(user=request_user(request))).data
        )


class SubscriptionResumeApi(APIView):
    """Undoes a cancellation before the period ends."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_subscription_resume",
        summary="Resume a cancelled subscription",
        description="Session only. 409 `not_active` or `not_canceling`.",
        request=None,
        responses={
            200: SubscriptionOutputSerializer,
            409: api_error("Nothing to resume."),
            **AUTH_ERRORS,
            **STRIPE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        services.subscription_resume(user=request_user(request))
        return Response(
            SubscriptionOutputSerializer(presenters.subscription_summary(user=request_user(request))).data
        )


class SubscriptionChangeApi(APIView):
    """Changes plan (prorated); with ``preview`` only shows what it would cost."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_subscription_change",
        summary="Change plan (or preview the proration)",
        description=(
            "Session only. With `preview: true` returns the proration and changes nothing; "
            "confirm with the preview's `proration_date` to be charged exactly that. "
            "404 `unknown_price`; 409 `not_active`, `same_plan`; 400 `preview_expired`."
        ),
        request=SubscriptionChangeInputSerializer,
        responses={
            200: OpenApiResponse(
                response=PolymorphicProxySerializer(
                    component_name="SubscriptionChangeResult",
                    serializers=[SubscriptionOutputSerializer, ChangePreviewOutputSerializer],
                    resource_type_field_name=None,
                ),
                description="The changed subscription or, with `preview`, the proration preview.",
            ),
            400: api_error("Invalid input or expired preview."),
            404: api_error("Unknown price."),
            409: api_error("No running subscription, or already on this plan."),
            **AUTH_ERRORS,
            **STRIPE_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        if data.validated_data["preview"]:
            preview = services.subscription_change_preview(
                user=user, price_id=data.validated_data["price_id"]
            )
            return Response(ChangePreviewOutputSerializer(preview).data)
        services.subscription_change(
            user=user,
            price_id=data.validated_data["price_id"],
            proration_date=data.validated_data.get("proration_date"),
        )
        return Response(SubscriptionOutputSerializer(presenters.subscription_summary(user=user)).data)


class InvoicePagination(DefaultCursorPagination):
    ordering = "-created"


class InvoiceListApi(GenericAPIView):
    """The user's invoices, newest first (cursor-paginated)."""

    required_scopes = SCOPES
    pagination_class = InvoicePagination
    serializer_class = InvoiceOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.invoice_list_for_user(user=request_user(self.request))

    @extend_schema(
        operation_id="billing_invoices_list",
        summary="Your invoices",
        description="Scope: `billing:read`. Amounts in cents; links to Stripe's hosted page and PDF.",
        responses={200: InvoiceOutputSerializer(many=True), **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [presenters.invoice_present(invoice) for invoice in page or []]
        return self.get_paginated_response(InvoiceOutputSerializer(rows, many=True).data)


class PaymentMethodDetailApi(APIView):
    """The card on file."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_payment_method_retrieve",
        summary="Your card on file",
        description="Scope: `billing:read`. 404 `no_payment_method`.",
        responses={200: PaymentMethodOutputSerializer, 404: api_error("No card on file."), **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        method = selectors.payment_method_get_for_user(user=request_user(request))
        if method is None:
            raise NotFoundError("You have no card on file.", code="no_payment_method")
        return Response(PaymentMethodOutputSerializer(method).data)


class EntitlementsDetailApi(APIView):
    """What the user's plan allows now."""

    required_scopes = SCOPES

    @extend_schema(
        operation_id="billing_entitlements_retrieve",
        summary="Your entitlements",
        description="Scope: `billing:read`.",
        responses={200: EntitlementsOutputSerializer, **AUTH_ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response(
            EntitlementsOutputSerializer(asdict(entitlements_get_for_user(user=request_user(request)))).data
        )
