"""The admin site staff run the product from: who may open it, for how long, and its index.

- Staff need two-factor authentication (an authenticator app or a security key) before any
  admin page opens; without it they get a page that sends them to set it up.
- An admin session lasts ``STAFF_SESSION_AGE`` seconds from the last sign-in (or, for a session
  that carries no sign-in record, from its first admin page), far less than a user session:
  past it, the staff member is signed out and asked to sign in again.
- The index groups the models staff use by what they are for, and leaves out the dj-stripe
  models nobody needs to browse (their pages still answer for superusers, by URL).
"""

from __future__ import annotations

import time
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import urlencode

if TYPE_CHECKING:
    from django.contrib.admin.sites import _ViewType

# When this session's admin clock started, if allauth recorded no sign-in (e.g. tests' force_login).
ADMIN_SINCE_SESSION_KEY = "staff_admin_since"

# Index sections, in order: (title, slug, [app_label.model_name, ...]). A model not listed falls
# into "Other" unless it is hidden below.
SECTIONS: list[tuple[str, str, list[str]]] = [
    (
        "Users",
        "users",
        [
            "accounts.user",
            "account.emailaddress",
            "mfa.authenticator",
            "usersessions.usersession",
            "accounts.signupblock",
            "auth.group",
        ],
    ),
    (
        "Moderation",
        "moderation",
        [
            "social.report",
            "social.moderationaction",
            "social.post",
            "social.follow",
            "social.followrequest",
            "social.block",
            "social.mute",
            "social.notification",
        ],
    ),
    (
        "Billing",
        "billing",
        [
            "djstripe.customer",
            "djstripe.subscription",
            "djstripe.invoice",
            "djstripe.charge",
            "djstripe.refund",
            "djstripe.dispute",
            "djstripe.price",
            "djstripe.product",
            "djstripe.webhookeventtrigger",
            "billing.graceperiod",
            "billing.billingnotification",
        ],
    ),
    (
        "Referrals",
        "referrals",
        [
            "referrals.referral",
            "referrals.reward",
            "referrals.topreferrer",
            "referrals.referralcode",
            "referrals.click",
        ],
    ),
    ("API keys", "keys", ["integrations.apikey"]),
    ("Audit and e-mail", "audit", ["audit.auditentry", "outbox.outboundemail"]),
]
# dj-stripe models outside the Billing section are sync machinery staff never need to browse.
HIDDEN_APPS = {"djstripe"}
_LISTED = {name for _title, _slug, names in SECTIONS for name in names}


def _model_key(app: dict[str, Any], model: dict[str, Any]) -> str:
    return f"{app['app_label']}.{model['object_name'].lower()}"


class RelayAdminSite(admin.AdminSite):
    site_header = "Relay staff"
    site_title = "Relay staff"
    index_title = "Staff admin"

    def admin_view(self, view: _ViewType, cacheable: bool = False) -> _ViewType:
        """Every admin page except sign-out passes ``staff_gate`` first."""
        inner = super().admin_view(view, cacheable)

        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = self.staff_gate(request)
            return refusal if refusal is not None else inner(request, *args, **kwargs)

        return cast("_ViewType", update_wrapper(gated, view))

    def staff_gate(self, request: HttpRequest) -> HttpResponse | None:
        """The answer for a staff member who may not use the admin now (their admin session is
        over, or they have no second factor), else None. Visitors who are not active staff go
        on to the admin's own refusal (sign-in page or 403)."""
        user = request.user
        if not (user.is_active and user.is_staff) or request.path == reverse("admin:logout"):
            return None
        if self._admin_session_expired(request):
            logout(request)
            messages.info(request, "Your admin session has expired. Sign in again to continue.")
            query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
            return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")
        if not _has_second_factor(user):
            context = {**self.each_context(request), "title": "Set up two-factor authentication"}
            context["mfa_setup_url"] = reverse("mfa_index")
            return render(request, "admin/mfa_required.html", context, status=403)
        return None

    def _admin_session_expired(self, request: HttpRequest) -> bool:
        from allauth.account.authentication import get_authentication_records

        records = get_authentication_records(request, request.user)
        signed_in_at = max((float(record.get("at", 0)) for record in records), default=0.0)
        since = request.session.setdefault(ADMIN_SINCE_SESSION_KEY, time.time())
        started = signed_in_at or float(since)
        return time.time() - started > settings.STAFF_SESSION_AGE

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        """The index by purpose (``SECTIONS``); one app's page (``app_label``) as Django has it,
        without the hidden dj-stripe models."""
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            for app in apps:
                app["models"] = [m for m in app["models"] if _visible(_model_key(app, m))]
            return [app for app in apps if app["models"]]
        models = {_model_key(app, model): (app, model) for app in apps for model in app["models"]}
        sections = []
        for title, slug, names in SECTIONS:
            entries = [models[name] for name in names if name in models]
            if entries:
                sections.append(_section(title, slug, entries))
        others = [entry for key, entry in models.items() if key not in _LISTED and _visible(key)]
        if others:
            sections.append(_section("Other", "other", others))
        return sections


def _visible(key: str) -> bool:
    return key in _LISTED or key.split(".")[0] not in HIDDEN_APPS


def _section(title: str, slug: str, entries: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    first_app = entries[0][0]
    return {
        "name": title,
        "app_label": f"staff-{slug}",
        "app_url": first_app["app_url"],
        "has_module_perms": True,
        "models": [model for _app, model in entries],
    }


def _has_second_factor(user: Any) -> bool:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    return bool(is_mfa_enabled(user, types=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]))
