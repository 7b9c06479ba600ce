"""Billing in the admin: dj-stripe's synced Stripe objects shown with human values (plan, status,
amounts in their currency), read-only, with the staff money actions as buttons on their pages,
failed webhook deliveries with a reprocess action, and the billing app's own rows.

dj-stripe's own "add"/"change" forms only write the local copy of a Stripe object (a Refund row
that refunds nothing, a Subscription edit Stripe never sees), so they are not offered: changes go
through Stripe, by the staff actions below (``billing.staff_actions``) or Stripe's dashboard, and
come back by webhook. Each action and the CSV export checks its own permission
(``billing.StaffBillingAction``'s). Amounts read as money on the lists and on each object's page
(``billing.admin_money``); the lists export through the site-wide ``config.admin.export_as_csv``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.http import HttpRequest
from djstripe import models as djstripe_models
from djstripe.admin.admin import StripeModelAdmin, WebhookEventTriggerAdmin

from accounts.auth import request_user
from billing import djstripe_fixes, services, staff_actions
from billing.admin_forms import CancelForm, CreditForm, ReasonForm, RefundForm
from billing.admin_money import MoneyFieldsMixin, money_display, stripe_text
from billing.admin_staff import StaffAction, StaffActionsMixin
from billing.models import BillingNotification, GracePeriod
from billing.money import money_format, money_major
from billing.selectors import stripe_id, subscription_item, subscription_status
from billing.statuses import LIVE_STATUSES
from config.admin import ReadOnlyAdminMixin, csv_column, export_as_csv

djstripe_fixes.install()

PERM = "billing."


def _user_label(customer: Any) -> str:
    user = getattr(customer, "subscriber", None) if customer is not None else None
    if user is None:
        return "—"
    return f"@{user.handle} <{user.email}>"


class BillingStripeAdmin(MoneyFieldsMixin, ReadOnlyAdminMixin, StripeModelAdmin):
    """A synced Stripe object: looked at, searched and exported here, changed only in Stripe."""

    actions: Any = ()
    columns: tuple[Any, ...] = ()
    filters: tuple[Any, ...] = ()

    def get_list_display(self, request: HttpRequest) -> Any:
        return self.columns

    def get_list_filter(self, request: HttpRequest) -> Any:
        return (*self.filters, "livemode")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # dj-stripe's queryset already has a select_related, so the changelist would skip
        # ``list_select_related``: applied here, or every row costs queries.
        return super().get_queryset(request).select_related(*(self.list_select_related or ()))

    def has_export_permission(self, request: HttpRequest) -> bool:
        # For ``config.admin.export_as_csv``: billing's own export permission, and seeing the list.
        return request.user.has_perm(PERM + "export_billing") and self.has_view_permission(request)


# --- Customers ------------------------------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    """A customer's subscriptions, invoices or payments on its page, newest first, each linking
    to its own page."""

    extra = 0
    can_delete = False
    show_change_link = True
    fk_name = "customer"
    ordering = ("-created",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The labels a Stripe object shows in its list and in its customer's page alike.


class _SubscriptionLabels:
    @admin.display(description="status")
    def status_label(self, obj: djstripe_models.Subscription) -> str:
        return _subscription_status_label(obj)

    @admin.display(description="amount")
    def amount_label(self, obj: djstripe_models.Subscription) -> str:
        return _subscription_amount(obj)


class _InvoiceLabels:
    @admin.display(description="total")
    def total_label(self, obj: djstripe_models.Invoice) -> str:
        return money_format(obj.stripe_data.get("total"), obj.stripe_data.get("currency"))


class _ChargeLabels:
    @admin.display(description="amount")
    def amount_label(self, obj: djstripe_models.Charge) -> str:
        return money_format(obj.stripe_data.get("amount"), obj.stripe_data.get("currency"))

    @admin.display(description="refunded")
    def refunded_label(self, obj: djstripe_models.Charge) -> str:
        refunded = int(obj.stripe_data.get("amount_refunded") or 0)
        return money_format(refunded, obj.stripe_data.get("currency")) if refunded else "—"


class SubscriptionInline(_SubscriptionLabels, _ReadOnlyInline):
    model = djstripe_models.Subscription
    fields = ("id", "created", "status_label", "amount_label", "current_period_end")


class InvoiceInline(_InvoiceLabels, _ReadOnlyInline):
    model = djstripe_models.Invoice
    fields = ("id", "created", "number", "status", "total_label", "hosted_invoice_url")


class ChargeInline(_ChargeLabels, _ReadOnlyInline):
    model = djstripe_models.Charge
    fields = ("id", "created", "amount_label", "refunded_label", "status")


def _credit(request: HttpRequest, customer: djstripe_models.Customer, data: dict[str, Any]) -> str:
    staff_actions.customer_credit_add(
        actor=request_user(request),
        customer=customer,
        amount=data["amount"],
        reason=data["reason"],
        idempotency_key=data["token"],
    )
    currency = staff_actions.customer_currency(customer)
    return f"Credited {money_format(data['amount'], currency)} to {_user_label(customer)}."


def _resync(request: HttpRequest, customer: djstripe_models.Customer, data: dict[str, Any]) -> str:
    changes = staff_actions.customer_resync(
        actor=request_user(request), customer=customer, reason=data["reason"]
    )
    if not changes:
        return "Re-synced from Stripe: nothing had changed."
    return f"Re-synced from Stripe: {len(changes)} change(s): " + "; ".join(changes[:10])


admin.site.unregister(djstripe_models.Customer)


@admin.register(djstripe_models.Customer)
class BillingCustomerAdmin(StaffActionsMixin, BillingStripeAdmin):
    """A customer, the user it belongs to, its subscriptions, invoices and payments on one page."""

    columns = ("id", "user_label", "email", "balance_label", "created", "livemode")
    list_select_related = ("subscriber",)
    inlines = (SubscriptionInline, InvoiceInline, ChargeInline)
    search_fields = ("id", "subscriber__email", "subscriber__handle")
    money_fields = ("balance",)
    staff_actions = (
        StaffAction(
            name="credit",
            label="Add credit",
            permission=PERM + "credit_customer",
            form_class=CreditForm,
            run=_credit,
            form_kwargs=lambda c: {"currency": staff_actions.customer_currency(c)},
            available=lambda c: c.date_purged is None,
            help_text="Adds credit to the customer's Stripe balance; Stripe takes it off their next invoices. "
            "The user is e-mailed.",
        ),
        StaffAction(
            name="resync",
            label="Re-sync from Stripe",
            permission=PERM + "resync_customer",
            form_class=ReasonForm,
            run=_resync,
            available=lambda c: c.date_purged is None,
            help_text="Reads the customer, its subscriptions, invoices and payments again from Stripe.",
        ),
    )

    @admin.display(description="user", ordering="subscriber__email")
    def user_label(self, obj: djstripe_models.Customer) -> str:
        return _user_label(obj)

    @admin.display(description="balance")
    def balance_label(self, obj: djstripe_models.Customer) -> str:
        # Stripe's balance is what the customer owes: a credit is negative.
        balance = obj.balance
        label = money_format(abs(balance), staff_actions.customer_currency(obj))
        return "—" if not balance else (f"{label} credit" if balance < 0 else f"{label} owed")


# --- Subscriptions --------------------------------------------------------------------------------


def _subscription_status_label(obj: djstripe_models.Subscription) -> str:
    status = subscription_status(obj).replace("_", " ") or "unknown"
    if obj.stripe_data.get("cancel_at_period_end") and status != "canceled":
        return f"{status}, ends at period end"
    return status


def _subscription_amount(obj: djstripe_models.Subscription) -> str:
    item = subscription_item(obj)
    price = item.get("price") or {}
    if not isinstance(price, dict) or price.get("unit_amount") is None:
        return "—"
    quantity = int(item.get("quantity") or 1)
    label = money_format(int(price["unit_amount"]) * quantity, price.get("currency"))
    interval = (price.get("recurring") or {}).get("interval")
    return f"{label} / {interval}" if interval else label


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"
    statuses = ("active", "trialing", "past_due", "unpaid", "paused", "incomplete", "canceled")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s, s.replace("_", " ").capitalize()) for s in self.statuses]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(stripe_data__status=value) if value in self.statuses else queryset


def _cancel(request: HttpRequest, subscription: djstripe_models.Subscription, data: dict[str, Any]) -> str:
    staff_actions.subscription_cancel_by_staff(
        actor=request_user(request), subscription=subscription, when=data["when"], reason=data["reason"]
    )
    return (
        "Subscription cancelled now." if data["when"] == "now" else "Subscription set to end at period end."
    )


def _resume(request: HttpRequest, subscription: djstripe_models.Subscription, data: dict[str, Any]) -> str:
    staff_actions.subscription_resume_by_staff(
        actor=request_user(request), subscription=subscription, reason=data["reason"]
    )
    return "Subscription resumed: it will renew."


def _cancellable(subscription: djstripe_models.Subscription) -> bool:
    return subscription_status(subscription) in LIVE_STATUSES


def _resumable(subscription: djstripe_models.Subscription) -> bool:
    status = subscription_status(subscription)
    return status == "paused" or (
        status in LIVE_STATUSES and bool(subscription.stripe_data.get("cancel_at_period_end"))
    )


SUBSCRIPTION_COLUMNS = (
    ("id", lambda s: s.id),
    ("customer", lambda s: stripe_id(s.customer)),
    ("user", lambda s: _user_label(s.customer)),
    ("plan", lambda s: s.plan_name or ""),
    ("status", subscription_status),
    ("cancel_at_period_end", lambda s: bool(s.stripe_data.get("cancel_at_period_end"))),
    ("amount", lambda s: _price_major(subscription_item(s).get("price"))),
    ("currency", lambda s: (subscription_item(s).get("price") or {}).get("currency", "")),
    (
        "interval",
        lambda s: ((subscription_item(s).get("price") or {}).get("recurring") or {}).get("interval", ""),
    ),
    ("current_period_end", lambda s: s.current_period_end),
    ("created", lambda s: s.created),
)


def _price_major(price: Any) -> Any:
    if not isinstance(price, dict) or price.get("unit_amount") is None:
        return ""
    return money_major(int(price["unit_amount"]), str(price.get("currency") or "usd"))


admin.site.unregister(djstripe_models.Subscription)


@admin.register(djstripe_models.Subscription)
class BillingSubscriptionAdmin(_SubscriptionLabels, StaffActionsMixin, BillingStripeAdmin):
    columns = (
        "id",
        "user_label",
        "plan_label",
        "status_label",
        "amount_label",
        "current_period_end",
        "created",
    )
    filters = (StatusFilter,)
    list_select_related = ("customer__subscriber",)
    search_fields = ("id", "customer__id", "customer__subscriber__email", "customer__subscriber__handle")
    inlines = ()
    detail_fields = ("plan_label", "amount_label")
    actions = (export_as_csv,)
    csv_columns = tuple(csv_column(header, value) for header, value in SUBSCRIPTION_COLUMNS)
    staff_actions = (
        StaffAction(
            name="cancel",
            label="Cancel subscription",
            permission=PERM + "cancel_subscription",
            form_class=CancelForm,
            run=_cancel,
            available=_cancellable,
            help_text="Cancels in Stripe for the customer; the user is e-mailed.",
            danger=True,
        ),
        StaffAction(
            name="resume",
            label="Resume subscription",
            permission=PERM + "resume_subscription",
            form_class=ReasonForm,
            run=_resume,
            available=_resumable,
            help_text="Undoes a cancellation at period end: the subscription renews. The user is e-mailed.",
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # The plan's name in the same query: the product of the first item's price.
        plan_name = djstripe_models.Product.objects.filter(prices__id=OuterRef("price_id")).values("name")[:1]
        return (
            super()
            .get_queryset(request)
            .annotate(price_id=KT("stripe_data__items__data__0__price__id"))
            .annotate(plan_name=Subquery(plan_name))
        )

    @admin.display(description="user")
    def user_label(self, obj: djstripe_models.Subscription) -> str:
        return _user_label(obj.customer)

    @admin.display(description="plan")
    def plan_label(self, obj: djstripe_models.Subscription) -> str:
        return getattr(obj, "plan_name", None) or "—"


# --- Invoices, payments, refunds, disputes -------------------------------------------------------


admin.site.unregister(djstripe_models.Invoice)


@admin.register(djstripe_models.Invoice)
class BillingInvoiceAdmin(_InvoiceLabels, BillingStripeAdmin):
    columns = ("number_label", "user_label", stripe_text("status"), "total_label", "paid_label", "created")
    list_select_related = ("customer__subscriber",)
    search_fields = ("id", "stripe_data__number", "customer__id", "customer__subscriber__email")
    inlines = ()
    money_fields = ("subtotal", "tax", "total", "amount_due", "amount_paid", "amount_remaining")

    @admin.display(description="invoice")
    def number_label(self, obj: djstripe_models.Invoice) -> str:
        return str(obj.stripe_data.get("number") or obj.id)

    @admin.display(description="user")
    def user_label(self, obj: djstripe_models.Invoice) -> str:
        return _user_label(obj.customer)

    @admin.display(description="paid")
    def paid_label(self, obj: djstripe_models.Invoice) -> str:
        return money_format(obj.stripe_data.get("amount_paid"), obj.stripe_data.get("currency"))


def _refund(request: HttpRequest, charge: djstripe_models.Charge, data: dict[str, Any]) -> str:
    issued = staff_actions.charge_refund(
        actor=request_user(request),
        charge=charge,
        amount=data["amount"],
        reason=data["reason"],
        stripe_reason=data["stripe_reason"],
        idempotency_key=data["token"],
    )
    return f"Refunded {money_format(issued.amount, issued.currency)} ({issued.refund_id})."


def _charge_currency(charge: djstripe_models.Charge) -> str:
    return str(charge.stripe_data.get("currency") or "usd")


PAYMENT_COLUMNS = (
    ("id", lambda c: c.id),
    ("customer", lambda c: stripe_id(c.customer)),
    ("user", lambda c: _user_label(c.customer)),
    ("amount", lambda c: money_major(int(c.stripe_data.get("amount") or 0), _charge_currency(c))),
    ("refunded", lambda c: money_major(int(c.stripe_data.get("amount_refunded") or 0), _charge_currency(c))),
    ("currency", _charge_currency),
    ("status", lambda c: c.stripe_data.get("status", "")),
    ("disputed", lambda c: bool(c.stripe_data.get("disputed"))),
    ("invoice", lambda c: stripe_id(c.stripe_data.get("invoice"))),
    ("created", lambda c: c.created),
)

admin.site.unregister(djstripe_models.Charge)


@admin.register(djstripe_models.Charge)
class BillingChargeAdmin(_ChargeLabels, StaffActionsMixin, BillingStripeAdmin):
    """Payments. "Refund" refunds in Stripe, all or part of what is left."""

    columns = ("id", "user_label", "amount_label", "refunded_label", "status_label", "created")
    list_select_related = ("customer__subscriber",)
    search_fields = ("id", "customer__id", "customer__subscriber__email", "customer__subscriber__handle")
    money_fields = ("amount", "amount_captured", "amount_refunded", "application_fee_amount")
    actions = (export_as_csv,)
    csv_columns = tuple(csv_column(header, value) for header, value in PAYMENT_COLUMNS)
    staff_actions = (
        StaffAction(
            name="refund",
            label="Refund",
            permission=PERM + "refund_charge",
            form_class=RefundForm,
            run=_refund,
            available=lambda c: staff_actions.charge_refundable_amount(c) > 0,
            form_kwargs=lambda c: {
                "currency": _charge_currency(c),
                "refundable": staff_actions.charge_refundable_amount(c),
            },
            help_text="Refunds the card in Stripe. The user is e-mailed the amount.",
            danger=True,
        ),
    )

    @admin.display(description="user")
    def user_label(self, obj: djstripe_models.Charge) -> str:
        return _user_label(obj.customer)

    @admin.display(description="status")
    def status_label(self, obj: djstripe_models.Charge) -> str:
        data = obj.stripe_data
        if data.get("disputed"):
            return "disputed"
        if data.get("refunded"):
            return "refunded"
        return str(data.get("status") or "")


admin.site.unregister(djstripe_models.Refund)


@admin.register(djstripe_models.Refund)
class BillingRefundAdmin(BillingStripeAdmin):
    columns = (
        "id",
        "charge",
        money_display("amount"),
        stripe_text("status"),
        stripe_text("reason"),
        "created",
    )
    list_select_related = ("charge",)
    search_fields = ("id", "charge__id")
    money_fields = ("amount",)


admin.site.unregister(djstripe_models.Dispute)


@admin.register(djstripe_models.Dispute)
class BillingDisputeAdmin(BillingStripeAdmin):
    columns = (
        "id",
        "charge_label",
        money_display("amount"),
        stripe_text("status"),
        stripe_text("reason"),
        "created",
    )
    search_fields = ("id",)
    money_fields = ("amount",)

    @admin.display(description="charge")
    def charge_label(self, obj: djstripe_models.Dispute) -> str:
        return stripe_id(obj.stripe_data.get("charge"))


# --- Catalogue ------------------------------------------------------------------------------------


admin.site.unregister(djstripe_models.Product)


@admin.register(djstripe_models.Product)
class BillingProductAdmin(BillingStripeAdmin):
    """The catalogue is edited in Stripe (or ``billing_setup_local``) and synced here."""

    columns = ("name", "plan_label", "active", "created")
    search_fields = ("id", "name")

    @admin.display(description="plan")
    def plan_label(self, obj: djstripe_models.Product) -> str:
        return str((obj.metadata or {}).get("plan") or "—")


admin.site.unregister(djstripe_models.Price)


@admin.register(djstripe_models.Price)
class BillingPriceAdmin(BillingStripeAdmin):
    columns = ("id", "product", "amount_label", "lookup_key", "active", "created")
    list_select_related = ("product",)
    search_fields = ("id", "lookup_key", "product__name")
    money_fields = ("unit_amount",)

    @admin.display(description="amount")
    def amount_label(self, obj: djstripe_models.Price) -> str:
        unit_amount = obj.stripe_data.get("unit_amount")
        label = money_format(unit_amount, obj.currency) if unit_amount is not None else "—"
        interval = (obj.recurring or {}).get("interval")
        return f"{label} / {interval}" if interval else label


admin.site.unregister(djstripe_models.BalanceTransaction)


@admin.register(djstripe_models.BalanceTransaction)
class BillingBalanceTransactionAdmin(BillingStripeAdmin):
    """What a charge, refund or dispute moved in the Stripe balance, and Stripe's fee."""

    columns = (
        "id",
        "type",
        money_display("amount"),
        money_display("fee"),
        money_display("net"),
        stripe_text("status"),
        "created",
    )
    filters = ("type",)
    search_fields = ("id", "source")
    money_fields = ("amount", "fee", "net")


# --- Webhooks -------------------------------------------------------------------------------------


class FailedFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("failed", "Failed (signed, not processed)"),
            ("invalid", "Invalid signature"),
            ("ok", "Processed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "failed":
            return queryset.filter(valid=True, processed=False)
        if self.value() == "invalid":
            return queryset.filter(valid=False)
        if self.value() == "ok":
            return queryset.filter(processed=True)
        return queryset


admin.site.unregister(djstripe_models.WebhookEventTrigger)


@admin.register(djstripe_models.WebhookEventTrigger)
class BillingWebhookEventTriggerAdmin(ReadOnlyAdminMixin, WebhookEventTriggerAdmin):
    """Every webhook delivery; filter on "Failed" and reprocess them after a fix."""

    list_display = ("created", "event_type", "event", "processed", "valid", "exception")
    list_filter = (FailedFilter, "created", "valid", "processed")
    actions = ("reprocess_failed",)

    def has_reprocess_webhook_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM + "reprocess_webhook")

    @admin.display(description="event type")
    def event_type(self, obj: djstripe_models.WebhookEventTrigger) -> str:
        return str(obj.event.type) if obj.event_id else "—"

    @admin.action(description="Reprocess the selected failed deliveries", permissions=["reprocess_webhook"])
    def reprocess_failed(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = failed = skipped = 0
        for trigger in queryset:
            if not trigger.valid or trigger.processed:
                skipped += 1
            elif services.webhook_trigger_reprocess(trigger=trigger):
                done += 1
            else:
                failed += 1
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, f"Reprocessed {done}, still failing {failed}, skipped {skipped}.", level)


@admin.register(BillingNotification)
class BillingNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("kind", "stripe_object_id", "user", "created_at")
    list_filter = ("kind",)
    search_fields = ("stripe_object_id", "user__email", "user__handle")
    raw_id_fields = ("user",)


@admin.register(GracePeriod)
class GracePeriodAdmin(admin.ModelAdmin):
    list_display = ("subscription_id", "user", "started_at", "invoice_id")
    search_fields = ("subscription_id", "user__email", "user__handle")
    raw_id_fields = ("user",)
