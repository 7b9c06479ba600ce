"""allauth hooks: only what the project needs to change."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import User, validate_handle
from accounts.request_info import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        """The model's handle rule (``accounts.models.validate_handle``); allauth then checks that
        no account has it, in any case."""
        validate_handle(username)
        return super().clean_username(username, shallow=shallow)

    def clean_email(self, email: str) -> str:
        """Refuses addresses longer than the column: allauth would silently cut them short."""
        max_length = User._meta.get_field("email").max_length or 254
        if len(email) > max_length:
            raise forms.ValidationError(f"Use an e-mail address of at most {max_length} characters.")
        self._hash_if_taken(email)
        return super().clean_email(email)

    def _hash_if_taken(self, email: str) -> None:
        """A sign-up (or an added address) that is already taken goes down allauth's
        enumeration-safe branch, which creates no user and so hashes no password, the bulk of a
        real sign-up's time. A throwaway hash makes both answers take as long.

        Only the request's first check counts: allauth cleans the address again after a new
        user is saved, when it exists (and that path has already paid for its hash).
        """
        request = context.request
        if getattr(request, "_accounts_email_checked", False):
            return
        request._accounts_email_checked = True  # a per-request mark
        if User.objects.filter(email__iexact=email).exists() or (
            EmailAddress.objects.filter(email__iexact=email).exists()
        ):
            make_password(secrets.token_urlsafe(16))

    def get_client_ip(self, request: HttpRequest) -> str:
        """The project's one client IP (``accounts.request_info.client_ip``), for allauth's rate
        limits and the sessions page, so they agree with the security log and the throttles."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's IP address.")
        return ip

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The key that allauth's ``login_failed`` ``/key`` rate counts failures under.

        The rule: failed logins are limited per IP (``10/m/ip``) and per *(IP, account)*
        (``5/5m/key``), never per account alone. An attacker hammering one account from their
        address is slowed down (and a botnet is slowed by the per-IP limit and Argon2), but
        the account owner signing in from another address is never locked out by somebody
        else's failures. allauth's default key is the account alone, which would let anyone
        lock a victim out by typing wrong passwords for their e-mail.

        This overrides a private allauth method; accounts/tests/test_security_ratelimit.py
        fails if an allauth upgrade stops calling it.
        """
        from allauth.core.internal.ratelimit import get_ip

        site = get_current_site(request)
        login = str(credentials.get("email", credentials.get("username", ""))).lower()
        return f"{site.domain}:{get_ip(request)}:{login}"


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions: Iterable[UserSession]) -> None:
        """Ends the sessions and writes one "session ended" line per session to the owner's log."""
        from accounts.services.security import user_sessions_end

        user_sessions_end(sessions=list(sessions), request=self.request)
