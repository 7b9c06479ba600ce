"""The referrals API: the referred users, the code, stats, applying a code, the rewards ledger."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
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
from referrals.selectors import referral_stats_for_user, referrals_for_referrer, rewards_for_user
from referrals.services import referral_apply, referral_code_ensure
from referrals.views import referral_link_url, share_text

READ_ONLY = RequiredScopes(read="referrals:read")


def _user(request: Request) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - IsAuthenticated ran first
    return request.user


@extend_schema(tags=["referrals"], description="Users you referred (e-mail masked), newest first.")
class ReferralListApi(mixins.ListModelMixin, viewsets.GenericViewSet):
    required_scopes = READ_ONLY
    serializer_class = ReferralOutputSerializer

    def get_queryset(self) -> Any:
        return referrals_for_referrer(user=_user(self.request))


@extend_schema(tags=["referrals"], description="Your rewards ledger, newest first.")
class RewardListApi(mixins.ListModelMixin, viewsets.GenericViewSet):
    required_scopes = READ_ONLY
    serializer_class = RewardOutputSerializer

    def get_queryset(self) -> Any:
        return rewards_for_user(user=_user(self.request))


class ReferralCodeApi(APIView):
    required_scopes = READ_ONLY

    @extend_schema(
        tags=["referrals"], responses=ReferralCodeOutputSerializer, description="Your code and link."
    )
    def get(self, request: Request) -> Response:
        code = referral_code_ensure(user=_user(request)).code
        data = {"code": code, "url": referral_link_url(code), "share_text": share_text(code)}
        return Response(ReferralCodeOutputSerializer(data).data)


class ReferralStatsApi(APIView):
    required_scopes = READ_ONLY

    @extend_schema(
        tags=["referrals"],
        responses=ReferralStatsOutputSerializer,
        description="Clicks on your link, sign-ups, paying referred users and credit (in cents).",
    )
    def get(self, request: Request) -> Response:
        stats = referral_stats_for_user(user=_user(request))
        return Response(ReferralStatsOutputSerializer(stats).data)


class ReferralApplyApi(APIView):
    # Session only: a personal API key cannot change who referred its owner.
    required_scopes = RequiredScopes(read="referrals:read", write=None)

    @extend_schema(
        tags=["referrals"],
        request=ReferralApplyInputSerializer,
        responses={
            201: ReferralAppliedOutputSerializer,
            400: OpenApiResponse(description="Unknown code, own code, or the 14-day window has passed."),
            409: OpenApiResponse(description="You already have a referrer."),
        },
        description="Applies a friend's referral code after sign-up (once, within the window). Not with API keys.",
    )
    def post(self, request: Request) -> Response:
        serializer = ReferralApplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ip_hash, device_hash = request_hashes(request._request)
        referral = referral_apply(
            user=_user(request),
            code=serializer.validated_data["code"],
            ip_hash=ip_hash,
            device_hash=device_hash,
        )
        return Response(ReferralAppliedOutputSerializer(referral).data, status=status.HTTP_201_CREATED)
