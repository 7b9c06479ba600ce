"""Receivers for allauth's signals: each parses the request and calls one service."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from referrals.cookies import referral_cookie_code, request_hashes
from referrals.services import referral_signup_record, user_signal_record_seen


def record_signup(*, request: HttpRequest | None, user: User, typed_code: str = "") -> None:
    """Attribution at sign-up: the typed code first, else the link's cookie."""
    if request is None:
        referral_signup_record(user=user, ip_hash="", device_hash="")
        return
    ip_hash, device_hash = request_hashes(request)
    if not typed_code:
        typed_code = str(request.POST.get("referral_code", "")) if request.method == "POST" else ""
    referral_signup_record(
        user=user,
        ip_hash=ip_hash,
        device_hash=device_hash,
        typed_code=typed_code,
        cookie_code=referral_cookie_code(request),
    )


def on_user_signed_up(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
) -> None:
    if user is not None:
        record_signup(request=request, user=user)


def on_user_logged_in(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **kwargs: Any
) -> None:
    if user is None or request is None or not hasattr(request, "META"):
        return
    ip_hash, device_hash = request_hashes(request)
    user_signal_record_seen(user=user, ip_hash=ip_hash, device_hash=device_hash)
