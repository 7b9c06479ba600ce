"""Impersonation for support, on django-hijack's session mechanics.

Hijack keeps who signed in as whom (``session["hijack_history"]``) and its middleware marks the
request (``request.user.is_hijacked``). What is ours: who may (``may_impersonate``, also hijack's
``HIJACK_PERMISSION_CHECK``), the reason, the time limit, the audit entries, the line in the
user's security log, and what an impersonated session may not do (``refusal_for``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, login, logout
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from hijack import signals
from hijack.views import keep_session_age

from accounts.models import SecurityEvent, User
from accounts.services import security_event_record
from audit.models import AuditEntry
from audit.services import audit_record

SESSION_KEY = "staff_impersonation"

# Paths an impersonated session may not open at all: they exist to change the password, e-mail
# addresses, two-factor methods or billing, or to delete the account.
REFUSED_PATHS = (
    "/accounts/password/",
    "/accounts/email/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/_allauth/browser/v1/account/",
    "/_allauth/app/v1/account/",
    "/settings/account/delete/",
    "/billing/subscribe/",
    "/billing/portal/",
    "/api/v1/billing/checkout-session/",
    "/api/v1/billing/portal-session/",
)
# Paths an impersonated session may read but not write (API keys and billing).
READ_ONLY_PATHS = ("/settings/api-keys/", "/api/v1/api-keys/", "/billing/", "/api/v1/billing/", "/_allauth/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ImpersonationRefused(Exception):
    """Raised when a staff member may not impersonate this user; the message says why."""


def impersonation_refusal(*, hijacker: Any, hijacked: Any) -> str:
    """Why ``hijacker`` may not impersonate ``hijacked`` (an empty string when they may)."""
    if not (getattr(hijacker, "is_authenticated", False) and hijacker.is_active and hijacker.is_staff):
        return "Only active staff members may impersonate."
    if not hijacker.has_perm("staff.impersonate_user"):
        return "You do not have the permission to impersonate users."
    if hijacked is None or not hijacked.is_active:
        return "Only an active account can be impersonated."
    if hijacked.pk == hijacker.pk:
        return "You cannot impersonate yourself."
    if (hijacked.is_superuser or hijacked.is_staff) and not hijacker.is_superuser:
        return "Only a superuser may impersonate a staff member or a superuser."
    return ""


def may_impersonate(*, hijacker: Any, hijacked: Any) -> bool:
    """django-hijack's permission check (``HIJACK_PERMISSION_CHECK``)."""
    return not impersonation_refusal(hijacker=hijacker, hijacked=hijacked)


def max_duration() -> timedelta:
    return timedelta(minutes=settings.STAFF_IMPERSONATION_MINUTES)


def impersonation_state(request: HttpRequest) -> dict[str, Any] | None:
    """The running impersonation of this session (hijacker id, reason, times), or None."""
    if not request.session.get("hijack_history"):
        return None
    state = request.session.get(SESSION_KEY)
    return state if isinstance(state, dict) else None


def impersonation_expired(state: dict[str, Any], *, now: datetime | None = None) -> bool:
    ends_at = datetime.fromisoformat(state["ends_at"])
    return (now or timezone.now()) >= ends_at


def _switch_to(request: HttpRequest, user: User) -> None:
    """Signs the session in as ``user`` as hijack does: same backend, same expiry, and no
    ``last_login`` update (the impersonated user did not sign in)."""
    backend = request.session[BACKEND_SESSION_KEY]
    with signals.no_update_last_login(), keep_session_age(request.session):
        login(request, user, backend=backend)


@transaction.atomic
def impersonation_start(*, request: HttpRequest, hijacker: User, hijacked: User, reason: str) -> None:
    """Signs this session in as ``hijacked`` for at most ``STAFF_IMPERSONATION_MINUTES``, after
    checking ``impersonation_refusal``. Audited with the reason and shown in the user's log."""
    refusal = impersonation_refusal(hijacker=hijacker, hijacked=hijacked)
    if refusal:
        raise ImpersonationRefused(refusal)
    if request.session.get("hijack_history"):
        raise ImpersonationRefused("Stop the current impersonation first.")
    get_user_model()._base_manager.select_for_update().filter(pk=hijacker.pk).first()
    history = [str(hijacker.pk)]
    _switch_to(request, hijacked)
    started = timezone.now()
    request.session["hijack_history"] = history
    request.session[SESSION_KEY] = {
        "hijacker_id": hijacker.pk,
        "hijacked_id": hijacked.pk,
        "reason": reason,
        "started_at": started.isoformat(),
        "ends_at": (started + max_duration()).isoformat(),
    }
    audit_record(
        actor=hijacker,
        kind=AuditEntry.Kind.IMPERSONATION,
        action="impersonation.start",
        target_user=hijacked,
        reason=reason,
        details={"minutes": settings.STAFF_IMPERSONATION_MINUTES},
    )
    security_event_record(
        user=hijacked,
        kind=SecurityEvent.Kind.SUPPORT_IMPERSONATION_STARTED,
        request=request,
        detail={"by": f"{settings.SITE_NAME} support"},
    )
    signals.hijack_started.send(sender=None, request=request, hijacker=hijacker, hijacked=hijacked)


@transaction.atomic
def impersonation_stop(*, request: HttpRequest, expired: bool = False) -> User | None:
    """Ends the impersonation: the session is the staff member's again. Returns the user who was
    impersonated (None when the session was not impersonating)."""
    state = impersonation_state(request)
    if state is None:
        return None
    hijacked = request.user
    hijacker = User.objects.filter(pk=state["hijacker_id"], is_active=True).first()
    if hijacker is None:  # the staff member is gone: nobody to return to, so sign out
        logout(request)
        return None
    _switch_to(request, hijacker)
    request.session["hijack_history"] = []
    request.session.pop(SESSION_KEY, None)
    minutes = int((timezone.now() - datetime.fromisoformat(state["started_at"])).total_seconds() // 60)
    target = User.objects.filter(pk=state["hijacked_id"]).first()
    audit_record(
        actor=hijacker,
        kind=AuditEntry.Kind.IMPERSONATION,
        action="impersonation.expire" if expired else "impersonation.stop",
        target_user=target,
        reason=state.get("reason", ""),
        details={"minutes": minutes},
    )
    if target is not None:
        security_event_record(
            user=target,
            kind=SecurityEvent.Kind.SUPPORT_IMPERSONATION_ENDED,
            request=request,
            detail={"by": f"{settings.SITE_NAME} support", "minutes": minutes},
        )
    signals.hijack_ended.send(sender=None, request=request, hijacker=hijacker, hijacked=hijacked)
    return target


def refusal_for(request: HttpRequest) -> str:
    """Why an impersonated session may not make this request (empty when it may)."""
    path = request.path
    if path.startswith(REFUSED_PATHS):
        return "Support cannot change the password, e-mail, two-factor methods or billing of the user."
    if request.method not in SAFE_METHODS and path.startswith(READ_ONLY_PATHS):
        return "Support cannot change the API keys or billing of the user."
    return ""
