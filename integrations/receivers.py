"""Reactions to allauth's signals: each one only calls a service."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import HttpRequest

from accounts.models import User
from integrations.customers import stripe_customer_sync_later
from integrations.forms import REVOKE_KEYS_FIELD
from integrations.services import api_keys_revoke_all


def on_email_confirmed(sender: Any, email_address: EmailAddress, **kwargs: Any) -> None:
    stripe_customer_sync_later(user=email_address.user)


def on_email_changed(sender: Any, user: Any, **kwargs: Any) -> None:
    # With ACCOUNT_CHANGE_EMAIL, a new address becomes the user's only one by being verified,
    # and allauth sends email_confirmed just before email_changed in that same step (also on
    # sign-up): the confirmation has already queued the sync, so queueing it again here would
    # run the task twice per verified sign-up. Without CHANGE_EMAIL, switching the primary
    # between verified addresses sends only this signal.
    if not settings.ACCOUNT_CHANGE_EMAIL:
        stripe_customer_sync_later(user=user)


def on_password_reset(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Whoever reset the password is recovering the account: no key minted before survives."""
    api_keys_revoke_all(user=user, reason="password_reset", request=request)


def on_password_changed(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """Every key stops too, unless the page's form said to keep them (the headless API has no
    such choice: there the keys always stop)."""
    if request is not None and request.POST.get(REVOKE_KEYS_FIELD) == "no":
        return
    api_keys_revoke_all(user=user, reason="password_changed", request=request)


def connect() -> None:
    uid = "integrations.receivers"
    account_signals.email_confirmed.connect(on_email_confirmed, dispatch_uid=f"{uid}.email_confirmed")
    account_signals.email_changed.connect(on_email_changed, dispatch_uid=f"{uid}.email_changed")
    account_signals.password_reset.connect(on_password_reset, dispatch_uid=f"{uid}.password_reset")
    account_signals.password_changed.connect(on_password_changed, dispatch_uid=f"{uid}.password_changed")
