"""Writes for sign-in security: failed logins, ending sessions, staff resets of two-factor.

The security log itself is written through ``accounts.services.security_event_record``; these
services decide *whose* log a sign-in event belongs to and end sessions the way allauth does.
"""

from __future__ import annotations

import time
from functools import partial

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import logout
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from accounts.devices import describe_user_agent
from accounts.models import SecurityEvent, User
from accounts.selectors.security import (
    login_backoff_key,
    user_get_for_login,
    user_session_get_for_user,
    user_session_is_live,
)
from accounts.services import security_event_record
from audit.models import AuditEntry
from audit.services import audit_record
from config.errors import NotFoundError, PermissionDeniedError

# The permission a staff member needs to reset someone's two-factor authentication.
MFA_RESET_PERMISSION = "mfa.delete_authenticator"


@transaction.atomic
def login_failure_record(*, login: str, request: HttpRequest | None, reason: str) -> SecurityEvent | None:
    """Records a failed sign-in in the log of the account it targeted.

    Nothing is recorded for an address without an account, and the response the visitor sees is
    the same either way (no enumeration). ``detail`` holds the reason, never the password tried.
    """
    user = user_get_for_login(login=login)
    if user is None:
        return None
    return security_event_record(
        user=user, kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, detail={"reason": reason}
    )


def login_backoff_fail(*, login: str) -> int:
    """Counts one wrong password for ``login`` and returns the back-off it now has, in seconds.

    The per-account cap, on top of allauth's per-IP and per-(IP, account) limits: the first
    ``LOGIN_BACKOFF["free_failures"]`` failures cost nothing; each one after that doubles the
    wait, from ``base_seconds`` up to ``max_seconds``, whatever address the attempts come from.
    Attempts refused during a wait are not counted (an attacker cannot stretch the wait beyond
    ``max_seconds`` after their last real try). The count is forgotten ``forget_seconds`` after
    the last failure, and at once on a successful sign-in or password reset
    (``login_backoff_clear``). Counted by login string, existing account or not (no enumeration).
    """
    rule = settings.LOGIN_BACKOFF
    key = login_backoff_key(login)
    cache.add(key + ":failures", 0, rule["forget_seconds"])
    failures = cache.incr(key + ":failures")
    cache.touch(key + ":failures", rule["forget_seconds"])
    over = failures - rule["free_failures"]
    if over < 0:
        return 0
    wait = min(rule["base_seconds"] * 2**over, rule["max_seconds"])
    cache.set(key + ":until", time.time() + wait, wait)
    return int(wait)


def login_backoff_clear(*, user: User) -> None:
    """Forgets the back-off of every address of ``user`` (they proved who they are)."""
    logins = {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    cache.delete_many(
        [login_backoff_key(login) + suffix for login in logins for suffix in (":failures", ":until")]
    )


@transaction.atomic
def user_sessions_end(*, sessions: list[UserSession], request: HttpRequest | None) -> None:
    """Ends each session (its store entry and its row) and logs it in its owner's security log."""
    for session in sessions:
        owner = session.user
        detail = {"ip": session.ip, "device": describe_user_agent(session.user_agent)}
        session.end()
        security_event_record(
            user=owner, kind=SecurityEvent.Kind.SESSION_REVOKED, request=request, detail=detail
        )


def user_sessions_purge_ended(*, user: User) -> int:
    """Deletes the user's session rows whose session has ended (gone from the store or expired),
    in one statement, and returns how many. Nothing to log: these sessions ended by themselves."""
    deleted, _ = UserSession.objects.filter(user=user).exclude(user_session_is_live()).delete()
    return deleted


def user_sessions_end_others(*, user: User, request: HttpRequest) -> int:
    """Ends every session of the user but the request's own, as allauth's "Sign out other
    sessions" does (each logged by ``accounts.adapters.UserSessionsAdapter``); returns how many."""
    others = list(UserSession.objects.filter(user=user).exclude(session_key=request.session.session_key))
    get_usersessions_adapter().end_sessions(others)
    return len(others)


def user_session_end(*, user: User, session_id: int, request: HttpRequest) -> bool:
    """Ends one of the user's own sessions; returns True when it was the current one.

    Ending the current session also signs the request out. Another user's session, or one that
    no longer exists, raises NotFoundError.
    """
    session = user_session_get_for_user(user=user, session_id=session_id)
    if session is None:
        raise NotFoundError("This session does not exist or has already ended.")
    was_current = session.session_key == request.session.session_key
    get_usersessions_adapter().end_sessions([session])
    if was_current:
        logout(request)
    return was_current


def mfa_reset_check(*, actor: User, user: User) -> None:
    """Raises ``PermissionDeniedError`` unless ``actor`` may reset ``user``'s two-factor
    authentication: staff with ``mfa.delete_authenticator``, and a superuser's only by a superuser."""
    if not (actor.is_active and actor.is_staff and actor.has_perm(MFA_RESET_PERMISSION)):
        raise PermissionDeniedError("You may not reset two-factor authentication.")
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDeniedError("Only a superuser may reset a superuser's two-factor authentication.")


@transaction.atomic
def mfa_reset(*, user: User, actor: User, reason: str = "", request: HttpRequest | None = None) -> list[str]:
    """Staff removal of every two-factor method of ``user`` (app, security keys, recovery codes).

    The one way staff touch someone's second factor: checked by ``mfa_reset_check``, written
    to the user's security log (who did it, which methods, why) and the staff audit log, and announced to the user by
    e-mail once committed. Returns the removed methods' types; nothing happens (and nothing is
    sent) when the user had none.
    """
    mfa_reset_check(actor=actor, user=user)
    authenticators = list(Authenticator.objects.select_for_update().filter(user=user))
    methods = sorted({str(a.type) for a in authenticators})
    if not methods:
        return []
    Authenticator.objects.filter(pk__in=[a.pk for a in authenticators]).delete()
    security_event_record(
        user=user,
        kind=SecurityEvent.Kind.MFA_DISABLED,
        request=request,
        detail={"reset_by_staff": actor.handle, "methods": methods, "reason": reason},
    )
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.SECURITY,
        action="user.mfa_reset",
        target_user=user,
        obj=user,
        reason=reason,
        details={"methods": methods},
    )
    context = {
        "user": user,
        "methods": ", ".join(methods),
        "reason": reason,
        "settings_url": f"{settings.SITE_URL}/accounts/2fa/",
    }
    transaction.on_commit(
        partial(get_account_adapter().send_mail, "account/email/mfa_reset", user.email, context)
    )
    return methods


@transaction.atomic
def site_sync(*, domain: str, name: str) -> None:
    """Names the current Site after the project, so allauth's e-mails say "Relay", not "example.com".

    Run after every ``migrate`` (see ``accounts.receivers``); idempotent.
    """
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": name})
    Site.objects.clear_cache()
