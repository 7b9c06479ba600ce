"""Admin: referrals by status with review actions, the rewards ledger with reversal, top referrers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest

from accounts.auth import request_user
from accounts.roles import REVERSE_REWARD_PERMISSION, REVIEW_REFERRAL_PERMISSION
from accounts.services.staff import staff_check
from audit.models import AuditEntry
from audit.services import audit_record
from config.admin import CsvExportMixin, ReadOnlyAdminMixin, ReasonActionForm, export_as_csv, staff_action_run
from referrals.models import Click, Referral, ReferralCode, Reward, TopReferrer
from referrals.rewards import reward_revoke
from referrals.services import referral_approve, referral_reject


def _audited(*, actor: Any, action: str, obj: Any, reason: str) -> None:
    audit_record(actor=actor, kind=AuditEntry.Kind.REFERRALS, action=action, obj=obj, reason=reason)


@admin.register(Referral)
class ReferralAdmin(CsvExportMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "referrer",
        "referred",
        "status",
        "source",
        "flag_reasons",
        "created_at",
        "converted_at",
    )
    list_filter = ("status", "source", "created_at")
    list_select_related = ("referrer", "referred")
    search_fields = ("referrer__handle", "referrer__email", "referred__handle", "referred__email", "code")
    readonly_fields = [f.name for f in Referral._meta.get_fields() if getattr(f, "concrete", False)]
    action_form = ReasonActionForm
    actions = ("approve", "reject", export_as_csv)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # Approving and rejecting need ``referrals.change_referral`` (the Billing role), not only
    # ``view_referral``; the reason is optional (a flag's reasons already say why it was held).
    @admin.action(
        description="Approve selected referrals (clears the flag; rewards a converted one)",
        permissions=["change"],
    )
    def approve(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        actor = request_user(request)

        def act(referral: Referral, reason: str) -> None:
            staff_check(actor=actor, permission=REVIEW_REFERRAL_PERMISSION)
            _audited(
                actor=actor,
                action="referral.approve",
                obj=referral_approve(referral=referral, actor=actor),
                reason=reason,
            )

        staff_action_run(self, request, queryset, act, done="Approved", reason_required=False)

    @admin.action(description="Reject selected referrals (never rewarded)", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        actor = request_user(request)

        def act(referral: Referral, reason: str) -> None:
            staff_check(actor=actor, permission=REVIEW_REFERRAL_PERMISSION)
            _audited(
                actor=actor,
                action="referral.reject",
                obj=referral_reject(referral=referral, actor=actor),
                reason=reason,
            )

        staff_action_run(self, request, queryset, act, done="Rejected", reason_required=False)


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "beneficiary",
        "amount_cents",
        "currency",
        "status",
        "hold_until",
        "granted_at",
        "stripe_balance_transaction_id",
    )
    list_filter = ("status", "kind")
    list_select_related = ("beneficiary",)
    search_fields = ("beneficiary__handle", "beneficiary__email", "stripe_invoice_id", "stripe_charge_id")
    readonly_fields = [f.name for f in Reward._meta.get_fields() if getattr(f, "concrete", False)]
    action_form = ReasonActionForm
    actions = ("cancel_or_reverse",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(
        description="Cancel (pending) or reverse (granted) selected rewards (takes the Stripe credit back)",
        permissions=["change"],
    )
    def cancel_or_reverse(self, request: HttpRequest, queryset: QuerySet[Reward]) -> None:
        actor = request_user(request)

        def act(reward: Reward, reason: str) -> None:
            staff_check(actor=actor, permission=REVERSE_REWARD_PERMISSION)
            revoked = reward_revoke(reward=reward, note=f"Reversed by staff: {reason}")
            _audited(actor=actor, action=f"reward.{revoked.status}", obj=revoked, reason=reason)

        staff_action_run(self, request, queryset, act, done="Rewards taken back")


@admin.register(TopReferrer)
class TopReferrerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Users ranked by the referrals they brought (rejected ones do not count)."""

    list_display = ("handle", "email", "referral_count", "converted_count", "credit_granted_cents")
    search_fields = ("handle", "email")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        counted = ~Q(referrals_made__status=Referral.Status.REJECTED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                referral_count=Count("referrals_made", filter=counted, distinct=True),
                converted_count=Count(
                    "referrals_made",
                    filter=counted & Q(referrals_made__converted_at__isnull=False),
                    distinct=True,
                ),
                credit_granted_cents=Subquery(
                    Reward.objects.filter(beneficiary=OuterRef("pk"), status=Reward.Status.GRANTED)
                    .values("beneficiary")
                    .annotate(total=Sum("amount_cents"))
                    .values("total")
                ),
            )
            .filter(referral_count__gt=0)
            .order_by("-referral_count", "pk")
        )

    @admin.display(ordering="referral_count", description="Referrals")
    def referral_count(self, obj: Any) -> int:
        return int(obj.referral_count)

    @admin.display(ordering="converted_count", description="Paying")
    def converted_count(self, obj: Any) -> int:
        return int(obj.converted_count)

    @admin.display(ordering="credit_granted_cents", description="Credit granted (cents)")
    def credit_granted_cents(self, obj: Any) -> int:
        return int(obj.credit_granted_cents or 0)


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "user", "created_at")
    search_fields = ("code", "user__handle", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "code", "created_at")


@admin.register(Click)
class ClickAdmin(admin.ModelAdmin):
    list_display = ("referrer", "created_at")
    list_select_related = ("referrer",)
    readonly_fields = ("referrer", "ip_hash", "device_hash", "created_at")
    date_hierarchy = "created_at"
