"""Every signal accounts listens to: allauth's and Django's auth signals (each turned into one
SecurityEvent), a new user's profile, and the Site's name after ``migrate``.

Receivers only translate a signal into a service call (no ORM here). Connected in
``AccountsConfig.ready()``. Session ends are logged by ``accounts.adapters.UserSessionsAdapter``
(allauth.usersessions has no signal for them).
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.models import EmailAddress
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_migrate, post_save
from django.http import HttpRequest

from accounts.models import SecurityEvent, User
from accounts.services import profile_ensure, security_event_record
from accounts.services.security import login_backoff_clear, login_failure_record


def _record(user: Any, kind: str, request: HttpRequest | None, **detail: Any) -> None:
    if isinstance(user, User) and user.pk:
        security_event_record(user=user, kind=kind, request=request, detail=detail)


def on_user_logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record(user, SecurityEvent.Kind.LOGIN, request)
    if isinstance(user, User):
        login_backoff_clear(user=user)


def on_user_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    _record(user, SecurityEvent.Kind.LOGOUT, request)


def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in ``credentials``; only the login is read.
    login = credentials.get("email") or credentials.get("username") or ""
    login_failure_record(login=str(login), request=request, reason="password")


def on_password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record(user, SecurityEvent.Kind.PASSWORD_CHANGED, request)


def on_password_set(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record(user, SecurityEvent.Kind.PASSWORD_CHANGED, request, first_password=True)


def on_password_reset(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _record(user, SecurityEvent.Kind.PASSWORD_RESET, request)
    if isinstance(user, User):
        login_backoff_clear(user=user)


def on_email_changed(
    sender: Any,
    request: HttpRequest,
    user: Any,
    from_email_address: EmailAddress | None,
    to_email_address: EmailAddress,
    **kwargs: Any,
) -> None:
    # allauth also sends this when the sign-up address is verified and becomes the first primary
    # (no previous address): that is logged as EMAIL_VERIFIED, not as a change.
    if from_email_address is None:
        return
    _record(
        user,
        SecurityEvent.Kind.EMAIL_CHANGED,
        request,
        old=from_email_address.email,
        new=to_email_address.email,
    )


def on_email_removed(
    sender: Any, request: HttpRequest, user: Any, email_address: EmailAddress, **kwargs: Any
) -> None:
    _record(user, SecurityEvent.Kind.EMAIL_CHANGED, request, removed=email_address.email)


def on_email_confirmed(sender: Any, request: HttpRequest, email_address: EmailAddress, **kwargs: Any) -> None:
    _record(email_address.user, SecurityEvent.Kind.EMAIL_VERIFIED, request, email=email_address.email)


def on_authenticator_added(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    kind = (
        SecurityEvent.Kind.RECOVERY_CODES_GENERATED
        if authenticator.type == Authenticator.Type.RECOVERY_CODES
        else SecurityEvent.Kind.MFA_ENABLED
    )
    _record(user, kind, request, method=authenticator.type)


def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    _record(user, SecurityEvent.Kind.MFA_DISABLED, request, method=authenticator.type)


def on_authenticator_reset(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator, **kwargs: Any
) -> None:
    _record(user, SecurityEvent.Kind.RECOVERY_CODES_GENERATED, request, method=authenticator.type)


def on_mfa_authentication_failed(
    sender: Any, request: HttpRequest, user: Any, authenticator: Authenticator | None = None, **kwargs: Any
) -> None:
    # A wrong two-factor code means the password was right: worth a line in the owner's log.
    method = authenticator.type if authenticator is not None else None
    _record(user, SecurityEvent.Kind.LOGIN_FAILED, request, reason="two_factor_code", method=method)


def on_user_saved(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Every new user gets a profile, whoever created them."""
    if created and not raw:
        profile_ensure(user=instance)


def on_post_migrate(sender: Any, **kwargs: Any) -> None:
    from urllib.parse import urlsplit

    from django.conf import settings

    from accounts.services.security import site_sync

    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    site_sync(domain=domain, name=settings.SITE_NAME)


def connect() -> None:
    uid = "accounts.receivers"
    post_save.connect(on_user_saved, sender=User, dispatch_uid=f"{uid}.profile_ensure")
    account_signals.user_logged_in.connect(on_user_logged_in, dispatch_uid=f"{uid}.login")
    auth_signals.user_logged_out.connect(on_user_logged_out, dispatch_uid=f"{uid}.logout")
    auth_signals.user_login_failed.connect(on_user_login_failed, dispatch_uid=f"{uid}.login_failed")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid=f"{uid}.password_changed")
    account_signals.password_set.connect(on_password_set, dispatch_uid=f"{uid}.password_set")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=f"{uid}.password_reset")
    account_signals.email_changed.connect(on_email_changed, dispatch_uid=f"{uid}.email_changed")
    account_signals.email_removed.connect(on_email_removed, dispatch_uid=f"{uid}.email_removed")
    account_signals.email_confirmed.connect(on_email_confirmed, dispatch_uid=f"{uid}.email_confirmed")
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid=f"{uid}.mfa_added")
    mfa_signals.authenticator_removed.connect(on_authenticator_removed, dispatch_uid=f"{uid}.mfa_removed")
    mfa_signals.authenticator_reset.connect(on_authenticator_reset, dispatch_uid=f"{uid}.mfa_reset")
    # After django.contrib.sites has created its default "example.com" row.
    post_migrate.connect(on_post_migrate, sender=apps.get_app_config("sites"), dispatch_uid=f"{uid}.site")
    mfa_signals.authentication_failed.connect(on_mfa_authentication_failed, dispatch_uid=f"{uid}.mfa_failed")
