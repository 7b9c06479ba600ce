"""Reads for the security log and signed-in sessions, scoped to the acting user."""

from __future__ import annotations

import hashlib
import math
import time

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import SecurityEvent, User


def security_event_list(*, user: User) -> QuerySet[SecurityEvent]:
    """The user's own security log, newest first."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")


def user_session_is_live() -> Exists:
    """True for a UserSession whose session is still in the store and unexpired.

    The session engine is ``cached_db`` (config/settings.py), which writes every session through
    to the ``django_session`` table: the table is the truth, so one join answers what allauth's
    ``purge_and_list`` asks the store one session at a time.
    """
    return Exists(Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now()))


def user_session_list_live(*, user: User) -> QuerySet[UserSession]:
    """The user's own signed-in sessions, oldest first (as allauth lists them), in one query.

    Unlike allauth's list it does not open each session to check its password hash: a session
    left behind by a password change stays listed until its device's next request ends it.
    """
    return UserSession.objects.filter(user=user).filter(user_session_is_live()).order_by("created_at", "pk")


def user_session_get_for_user(*, user: User, session_id: int) -> UserSession | None:
    """One of the user's own signed-in sessions, or None (another user's session is never found)."""
    return UserSession.objects.filter(user=user, pk=session_id).first()


def user_get_for_login(*, login: str) -> User | None:
    """The account a login (an e-mail address, in any case) names, if any."""
    if not login:
        return None
    user = User.objects.filter(email__iexact=login).first()
    if user is None:
        address = EmailAddress.objects.filter(email__iexact=login).select_related("user").first()
        user = address.user if address is not None else None
    return user if isinstance(user, User) else None


def login_backoff_key(login: str) -> str:
    """The cache key prefix of a login's back-off; the address itself is never stored."""
    return "accounts:login-backoff:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()


def login_backoff_get_wait(*, login: str) -> int:
    """Seconds before a password may be tried again for ``login`` (0: now). See
    ``accounts.services.security.login_backoff_fail`` for the rule."""
    until = cache.get(login_backoff_key(login) + ":until")
    return max(0, math.ceil(float(until) - time.time())) if until else 0
