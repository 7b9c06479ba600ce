"""Staff's view of the outbox: pending and failed sends, read-only, with "retry now" (recorded in
the staff audit log).

The bodies are never shown: they may hold sign-in or password-reset links.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyAdminMixin, staff_action_performed
from outbox.models import OutboundEmail
from outbox.services import email_retry


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "recipients",
        "subject",
        "status",
        "attempts",
        "short_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("status",)
    search_fields = ("subject", "dedupe_key")
    ordering = ("-created_at",)
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "recipients",
        "from_email",
        "subject",
        "status",
        "attempts",
        "last_error",
        "dedupe_key",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ("retry_now",)

    @admin.display(description="To")
    def recipients(self, obj: OutboundEmail) -> str:
        return ", ".join(obj.to)

    @admin.display(description="Last error")
    def short_error(self, obj: OutboundEmail) -> str:
        return obj.last_error[:80]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("outbox.retry_outboundemail")

    @admin.action(description="Retry now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queued = email_retry(email_ids=ids)
        skipped = len(ids) - queued
        staff_action_performed.send(
            sender=OutboundEmail,
            actor=request.user,
            kind="outbox",
            action="outbox.outboundemail.retry",
            details={"emails": ids[:200], "selected": len(ids), "queued": queued},
        )
        self.message_user(request, f"{queued} e-mail(s) queued for sending.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} already sent, left alone.", messages.WARNING)
