"""Reactions to allauth's signals: each one only calls a service."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.models import EmailAddress
from django.conf import settings

from integrations.customers import stripe_customer_sync_later


def on_email_confirmed(sender: Any, email_address: EmailAddress, **kwargs: Any) -> None:
    stripe_customer_sync_later(user=email_address.user)  # type: ignore[arg-type]


def on_email_changed(sender: Any, user: Any, **kwargs: Any) -> None:
    # With ACCOUNT_CHANGE_EMAIL, a new address becomes the user's only one by being verified,
    # and allauth sends email_confirmed just before email_changed in that same step (also on
    # sign-up): the confirmation has already queued the sync, so queueing it again here would
    # run the task twice per verified sign-up. Without CHANGE_EMAIL, switching the primary
    # between verified addresses sends only this signal.
    if not settings.ACCOUNT_CHANGE_EMAIL:
        stripe_customer_sync_later(user=user)


def connect() -> None:
    uid = "integrations.receivers"
    account_signals.email_confirmed.connect(on_email_confirmed, dispatch_uid=f"{uid}.email_confirmed")
    account_signals.email_changed.connect(on_email_changed, dispatch_uid=f"{uid}.email_changed")
