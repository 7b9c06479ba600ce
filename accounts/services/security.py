"""Writes for sign-in security: failed logins and ending sessions.

The security log itself is written through ``accounts.services.security_event_record``; these
services decide *whose* log a sign-in event belongs to and end sessions the way allauth does.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest

from accounts.devices import describe_user_agent
from accounts.models import SecurityEvent, User
from accounts.selectors.security import user_session_get_for_user
from accounts.services import security_event_record
from config.errors import NotFoundError


def _user_for_login(login: str) -> User | None:
    """The account a login (an e-mail address, in any case) names, if any."""
    if not login:
        return None
    user = User.objects.filter(email__iexact=login).first()
    if user is None:
        address = EmailAddress.objects.filter(email__iexact=login).select_related("user").first()
        user = address.user if address is not None else None
    return user if isinstance(user, User) else None


@transaction.atomic
def login_failure_record(*, login: str, request: HttpRequest | None, reason: str) -> SecurityEvent | None:
    """Records a failed sign-in in the log of the account it targeted.

    Nothing is recorded for an address without an account, and the response the visitor sees is
    the same either way (no enumeration). ``detail`` holds the reason, never the password tried.
    """
    user = _user_for_login(login)
    if user is None:
        return None
    return security_event_record(
        user=user, kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, detail={"reason": reason}
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


@transaction.atomic
def site_sync(*, domain: str, name: str) -> None:
    """Names the current Site after the project, so allauth's e-mails say "Relay", not "example.com".

    Run after every ``migrate`` (see ``accounts.receivers``); idempotent.
    """
    from django.conf import settings
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": domain, "name": name})
    Site.objects.clear_cache()
