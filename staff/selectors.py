"""Reads of the staff panel: everything the one-page view of a user shows. Each section is one
query limited to its newest ``SECTION_LIMIT`` rows (with a link to the full admin list), so the
page costs the same number of queries whatever the user's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.db.models import QuerySet

from accounts.models import Profile, SecurityEvent, User
from audit.models import AuditEntry
from billing.presenters import invoice_present, subscription_summary
from billing.selectors import invoice_list_for_user
from integrations.models import ApiKey
from referrals.models import Referral, Reward
from social.models import ModerationAction, Report

SECTION_LIMIT = 10
# Two-factor methods in the words the user sees (allauth's labels say "TOTP").
AUTHENTICATOR_LABELS = {
    Authenticator.Type.TOTP: "Authenticator app",
    Authenticator.Type.RECOVERY_CODES: "Recovery codes",
    Authenticator.Type.WEBAUTHN: "Security key or passkey",
}


@dataclass(frozen=True)
class Section:
    """Some newest rows of a list, whether more exist, and where the full list is."""

    rows: list[Any]
    more: bool
    url: str = ""


def _section(queryset: QuerySet[Any], url: str = "") -> Section:
    rows = list(queryset[: SECTION_LIMIT + 1])
    return Section(rows=rows[:SECTION_LIMIT], more=len(rows) > SECTION_LIMIT, url=url)


def _authenticators(user: User) -> list[dict[str, Any]]:
    """Which two-factor methods the user has and when they were used: never their secrets."""
    rows = (
        Authenticator.objects.filter(user=user)
        .order_by("created_at")
        .values("type", "created_at", "last_used_at")
    )
    return [{**row, "label": AUTHENTICATOR_LABELS.get(row["type"], row["type"])} for row in rows]


def user_overview(*, user: User) -> dict[str, Any]:
    """Every section of the user 360 page."""
    uid = user.pk
    return {
        "profile": Profile.objects.filter(user=user).first(),
        "emails": list(EmailAddress.objects.filter(user=user).order_by("-primary", "email")),
        "authenticators": _authenticators(user),
        "security_events": _section(
            SecurityEvent.objects.filter(user=user), f"/admin/accounts/securityevent/?user__id__exact={uid}"
        ),
        "sessions": _section(UserSession.objects.filter(user=user).order_by("-last_seen_at")),
        "subscription": subscription_summary(user=user),
        "invoices": [
            invoice_present(i) for i in invoice_list_for_user(user=user).order_by("-created")[:SECTION_LIMIT]
        ],
        "referral_in": Referral.objects.filter(referred=user).select_related("referrer").first(),
        "referrals_out": _section(
            Referral.objects.filter(referrer=user).select_related("referred").order_by("-created_at"),
            f"/admin/referrals/referral/?referrer__id__exact={uid}",
        ),
        "rewards": _section(
            Reward.objects.filter(beneficiary=user).order_by("-created_at"),
            f"/admin/referrals/reward/?beneficiary__id__exact={uid}",
        ),
        "api_keys": _section(
            ApiKey.objects.filter(user=user)
            .order_by("-created_at")
            .only("name", "public_id", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"),
            f"/admin/integrations/apikey/?user__id__exact={uid}",
        ),
        "reports_by": _section(
            Report.objects.filter(reporter=user).select_related("target_user").order_by("-created_at"),
            f"/admin/social/report/?reporter__id__exact={uid}",
        ),
        "reports_against": _section(
            Report.objects.filter(target_user=user).select_related("reporter").order_by("-created_at"),
            f"/admin/social/report/?target_user__id__exact={uid}",
        ),
        "moderation": _section(
            ModerationAction.objects.filter(target_user=user)
            .select_related("moderator")
            .order_by("-created_at"),
            f"/admin/social/moderationaction/?target_user__id__exact={uid}",
        ),
        "audit": _section(
            AuditEntry.objects.filter(target_user=user),
            f"/admin/audit/auditentry/?target_user__id__exact={uid}",
        ),
    }
