"""Reads for the security log and signed-in sessions, scoped to the acting user."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.db.models import QuerySet

from accounts.models import SecurityEvent, User


def security_event_list(*, user: User) -> QuerySet[SecurityEvent]:
    """The user's own security log, newest first."""
    return SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")


def user_session_get_for_user(*, user: User, session_id: int) -> UserSession | None:
    """One of the user's own signed-in sessions, or None (another user's session is never found)."""
    return UserSession.objects.filter(user=user, pk=session_id).first()
