"""The referrals API: the referred users, the code, stats, applying a code, the rewards ledger."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import request_user
from config.api import api_error
from config.scopes import RequiredScopes
from referrals.api.serializers import (
    ReferralAppliedOutputSerializer,
    ReferralApplyInputSerializer,
    ReferralCodeOutputSerializer,
    ReferralOutputSerializer,
    ReferralStatsOutputSerializer,
    RewardOutputSerializer,
)
from referrals.cookies import request_hashes
from referrals.links import referral_link_url, referral_share_text
from referrals.models import Referral, Reward
from referrals.selectors import referral_list_for_referrer, referral_stats_get_for_user, reward_list_for_user
from referrals.services import referral_apply, referral_code_ensure

READ_ONLY = RequiredScopes(read="referrals:read")


class ReferralListApi(ListAPIView[Referral]):
    required_scopes = READ_ONLY
    serializer_class = ReferralOutputSerializer

    def get_queryset(self) -> QuerySet[Referral]:
        return referral_list_for_referrer(user=request_user(self.request))

    @extend_schema(
        operation_id="referrals_list",
        tags=["referrals"],
        description="Users you referred (e-mail masked), newest first.",
    )
    def get(self, request: Request) -> Response:
        return self.list(request)


class RewardListApi(ListAPIView[Reward]):
    required_scopes = READ_ONLY
    serializer_class = RewardOutputSerializer

    def get_queryset(self) -> QuerySet[Reward]:
        return reward_list_for_user(user=request_user(self.request))

    @extend_schema(
        operation_id="referrals_rewards_list",
        tags=["referrals"],
        description="Your rewards ledger, newest first.",
    )
    def get(self, request: Request) -> Response:
        return self.list(request)


class ReferralCodeApi(APIView):
    required_scopes = READ_ONLY

    @extend_schema(
        tags=["referrals"], responses=ReferralCodeOutputSerializer, description="Your code and link."
    )
    def get(self, request: Request) -> Response:
        code = referral_code_ensure(user=request_user(request)).code
        data = {"code": code, "url": referral_link_url(code), "share_text": referral_share_text(code)}
        return Response(ReferralCodeOutputSerializer(data).data)


class ReferralStatsApi(APIView):
    required_scopes = READ_ONLY

    @extend_schema(
        tags=["referrals"],
        responses=ReferralStatsOutputSerializer,
        description="Clicks on your link, sign-ups, paying referred users and credit (in cents).",
    )
    def get(self, request: Request) -> Response:
        stats = referral_stats_get_for_user(user=request_user(request))
        return Response(ReferralStatsOutputSerializer(stats).data)


class ReferralApplyApi(APIView):
    # Session only: a personal API key cannot change who referred its owner.
    required_scopes = RequiredScopes(read="referrals:read", write=None)

    @extend_schema(
        tags=["referrals"],
        request=ReferralApplyInputSerializer,
        responses={
            201: ReferralAppliedOutputSerializer,
            400: api_error(
                "Unknown code (`unknown_code`), your own code (`self_referral`), a referral that would "
                "go round in a circle (`circular_referral`), the window after sign-up has passed "
                "(`apply_window_closed`), or you have already paid (`already_paying`)."
            ),
            409: api_error("You already have a referrer (`already_referred`)."),
        },
        description="Applies a friend's referral code after sign-up: once, within the window, and "
        "before your first paid invoice. Not with API keys.",
    )
    def post(self, request: Request) -> Response:
        serializer = ReferralApplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ip_hash, device_hash = request_hashes(request._request)
        referral = referral_apply(
            user=request_user(request),
            code=serializer.validated_data["code"],
            ip_hash=ip_hash,
            device_hash=device_hash,
        )
        return Response(ReferralAppliedOutputSerializer(referral).data, status=status.HTTP_201_CREATED)
