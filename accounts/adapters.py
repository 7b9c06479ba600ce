"""allauth hooks: only what the project needs to change."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.models import User, validate_handle
from accounts.request_info import client_ip
from accounts.selectors.security import login_backoff_get_wait, user_get_for_login
from accounts.selectors.signup_blocks import signup_block_for_email, signup_block_for_ip
from accounts.services.security import login_backoff_fail

# What counts as a second factor at sign-in (recovery codes only back one of these up).
SECOND_FACTOR_TYPES = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username: str, shallow: bool = False) -> str:
        """The model's handle rule (``accounts.models.validate_handle``); allauth then checks that
        no account has it, in any case."""
        validate_handle(username)
        return super().clean_username(username, shallow=shallow)

    def clean_email(self, email: str) -> str:
        """Refuses addresses longer than the column (allauth would silently cut them short) and
        addresses at a blocked domain."""
        max_length = User._meta.get_field("email").max_length or 254
        if len(email) > max_length:
            raise forms.ValidationError(f"Use an e-mail address of at most {max_length} characters.")
        if signup_block_for_email(email=email) is not None:
            # Staff blocked the domain (accounts.models.SignupBlock): for new accounts and for
            # addresses added to existing ones alike, or the block would be one step around.
            raise forms.ValidationError(
                "Addresses at this domain cannot be used here.", code="blocked_domain"
            )
        self._hash_if_taken(email)
        return super().clean_email(email)

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Closed to a client address staff blocked (``SignupBlock``): allauth then shows its
        "sign-up closed" page, or answers 403 to the SPA."""
        if signup_block_for_ip(ip=client_ip(request)) is not None:
            return False
        return bool(super().is_open_for_signup(request))

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

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """allauth's password check (page, headless, re-authentication), under the per-account
        back-off (``accounts.services.security.login_backoff_fail``).

        During a wait the password is not tried and the answer is "try again in ...", whether
        it was right or not, whether the account exists or not. Except for an account with a
        second factor (an authenticator app or a security key): its password is still checked,
        and the right one leads on to the second-factor step, which the attacker cannot pass; so
        the owner of such an account is never locked out. A passkey sign-in or a password reset
        never goes through here, and a successful sign-in or reset clears the back-off.
        """
        login = str(credentials.get("email") or credentials.get("username") or "")
        wait = login_backoff_get_wait(login=login)
        account = user_get_for_login(login=login) if wait else None
        second_factor = account is not None and is_mfa_enabled(account, types=SECOND_FACTOR_TYPES)
        if wait and not second_factor:
            self.pre_authenticate(request, **credentials)  # the per-IP limits still count
            make_password(secrets.token_urlsafe(16))  # as long as a real check
            raise self._backoff_error(wait)
        user = super().authenticate(request, **credentials)
        if user is None and login:
            now_wait = login_backoff_fail(login=login)
            if wait:
                raise self._backoff_error(max(wait, now_wait))
        return user

    @staticmethod
    def _backoff_error(wait: int) -> forms.ValidationError:
        minutes = max(1, round(wait / 60))
        when = f"{wait} seconds" if wait < 90 else f"{minutes} minutes"
        return forms.ValidationError(
            f"Too many failed sign-ins to this account. Try again in {when}, sign in with a "
            "passkey, or reset your password.",
            code="too_many_login_attempts",
        )

    def get_client_ip(self, request: HttpRequest) -> str:
        """The project's one client IP (``accounts.request_info.client_ip``), for allauth's rate
        limits and the sessions page, so they agree with the security log and the throttles."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client's IP address.")
        return ip

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The key that allauth's ``login_failed`` ``/key`` rate counts failures under.

        The rule: allauth limits failed logins per IP (``10/m/ip``) and per *(IP, account)*
        (``5/5m/key``). allauth's default key is the account alone, a hard lock-out anyone could
        put on a victim by typing wrong passwords for their e-mail; the per-account cap is
        instead the bounded exponential back-off of ``authenticate`` above, which an owner with
        a second factor, a passkey or a password reset gets past.

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
