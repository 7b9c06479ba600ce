"""The signed-in user of a request, typed.

Views reach the acting user through ``request_user(request)`` instead of ``request.user`` plus a
``type: ignore``: the login check (``login_required``, DRF's ``IsAuthenticated``) has already run,
so anything else here is a programming error in the view's guards, answered 403, never a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

from accounts.models import User


def request_user(request: HttpRequest | Request) -> User:
    """The signed-in ``User`` of ``request``; raises ``PermissionDenied`` for anyone else."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def request_user_or_none(request: HttpRequest | Request) -> User | None:
    """The signed-in ``User`` of ``request``, or ``None`` for an anonymous visitor."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None
