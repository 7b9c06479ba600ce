"""Admin: dj-stripe's admin, plus customers with their user, subscriptions and invoices on one
page, failed webhook deliveries with a reprocess action, and the billing app's own rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from djstripe import models as djstripe_models
from djstripe.admin.admin import CustomerAdmin, WebhookEventTriggerAdmin

from billing import services
from billing.models import BillingNotification, GracePeriod


class InvoiceInline(admin.TabularInline):
    model = djstripe_models.Invoice
    fk_name = "customer"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("id", "created", "number", "status", "total", "hosted_invoice_url")
    readonly_fields = fields
    ordering = ("-created",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(djstripe_models.Customer)


@admin.register(djstripe_models.Customer)
class BillingCustomerAdmin(CustomerAdmin):
    """A customer, the user it belongs to, its subscriptions and its invoices on one page."""

    inlines = (*CustomerAdmin.inlines, InvoiceInline)
    search_fields = ("id", "subscriber__email", "subscriber__handle")


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
class BillingWebhookEventTriggerAdmin(WebhookEventTriggerAdmin):
    """Every webhook delivery; filter on "Failed" and reprocess them after a fix."""

    list_filter = (FailedFilter, "created", "valid", "processed")
    actions = ("reprocess_failed",)

    @admin.action(description="Reprocess the selected failed deliveries")
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
class BillingNotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "stripe_object_id", "user", "created_at")
    list_filter = ("kind",)
    search_fields = ("stripe_object_id", "user__email", "user__handle")
    raw_id_fields = ("user",)
    readonly_fields = ("kind", "stripe_object_id", "user", "created_at")


@admin.register(GracePeriod)
class GracePeriodAdmin(admin.ModelAdmin):
    list_display = ("subscription_id", "user", "started_at", "invoice_id")
    search_fields = ("subscription_id", "user__email", "user__handle")
    raw_id_fields = ("user",)
