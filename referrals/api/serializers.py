"""Input and output serializers of the referrals API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from referrals.models import Referral, Reward
from referrals.selectors import mask_email


class ReferralOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.SerializerMethodField(help_text="The referred user's e-mail, masked.")
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    # How the referral was made (link, code typed at sign-up, applied later).
    attribution = serializers.ChoiceField(source="source", choices=Referral.Source.choices)
    created_at = serializers.DateTimeField()
    converted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_user(self, obj: Referral) -> str | None:
        return mask_email(obj.referred.email) if obj.referred else None


class ReferralCodeOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    url = serializers.URLField()
    share_text = serializers.CharField()


class ReferralStatsOutputSerializer(serializers.Serializer):
    clicks = serializers.IntegerField()
    signups = serializers.IntegerField()
    conversions = serializers.IntegerField()
    credit_earned_cents = serializers.IntegerField()
    credit_pending_cents = serializers.IntegerField()


class ReferralApplyInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class ReferralAppliedOutputSerializer(serializers.Serializer):
    referrer = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    created_at = serializers.DateTimeField()

    def get_referrer(self, obj: Referral) -> str:
        return f"@{obj.referrer.handle}"


class RewardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Reward.Kind.choices)
    status = serializers.ChoiceField(choices=Reward.Status.choices)
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    hold_until = serializers.DateTimeField()
    referred_user = serializers.SerializerMethodField()
    stripe_balance_transaction_id = serializers.CharField()
    stripe_reversal_transaction_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    granted_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    reversed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_referred_user(self, obj: Reward) -> str | None:
        referred = obj.referral.referred
        return mask_email(referred.email) if referred else None
