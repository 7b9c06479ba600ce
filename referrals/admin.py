"""Admin: referrals by status with review actions, the rewards ledger with reversal, top referrers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest

from accounts.auth import request_user
from config.admin import ReadOnlyAdminMixin
from config.errors import ApplicationError
from referrals.models import Click, Referral, ReferralCode, Reward, TopReferrer
from referrals.services import referral_approve, referral_reject


def _run_each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, rows: QuerySet[Any], action: Any, done: str
) -> None:
    ok = 0
    for row in rows:
        try:
            action(row)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{row}: {exc.message}", level=messages.WARNING)
        else:
            ok += 1
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", level=messages.SUCCESS)


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
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
    actions = ("approve", "reject")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Approve selected referrals (clears the flag; rewards a converted one)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        actor = request_user(request)
        _run_each(self, request, queryset, lambda r: referral_approve(referral=r, actor=actor), "approved")

    @admin.action(description="Reject selected referrals (never rewarded)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Referral]) -> None:
        actor = request_user(request)
        _run_each(self, request, queryset, lambda r: referral_reject(referral=r, actor=actor), "rejected")


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
    actions = ("cancel_or_reverse",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Cancel (pending) or reverse (granted) selected rewards")
    def cancel_or_reverse(self, request: HttpRequest, queryset: QuerySet[Reward]) -> None:
        from referrals.rewards import reward_revoke

        _run_each(
            self, request, queryset, lambda r: reward_revoke(reward=r, note="Reversed by staff"), "revoked"
        )


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
