"""Billing's e-mails: the once-only claim and the outbox, shared by every billing module.

A side effect of a Stripe event carries its own unique key (``BillingNotification``), claimed in
the same transaction as the e-mail's outbox row (``outbox.services.email_enqueue``), so a
replayed, concurrent or out-of-order delivery sends it once, and an SMTP failure never loses it:
the outbox retries until the server accepts it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from billing.models import BillingNotification
from outbox.services import email_enqueue


def notification_claim(*, kind: str, stripe_object_id: str, user: User) -> bool:
    """Claims the unique key of a side effect; False when it was already taken."""
    try:
        with transaction.atomic():
            BillingNotification.objects.create(kind=kind, stripe_object_id=stripe_object_id, user=user)
    except IntegrityError:
        return False
    return True


def notification_email_enqueue(
    *, user: User, template: str, context: dict[str, Any], dedupe_key: str | None = None
) -> None:
    """Records the e-mail ``billing/email/<template>`` in the outbox in the caller's transaction:
    it is delivered after commit, retried until the SMTP server accepts it. ``dedupe_key``
    makes it once-only (see ``email_enqueue``)."""
    ctx = {"user": user, "site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    email_enqueue(to=user.email, template=f"billing/email/{template}", context=ctx, dedupe_key=dedupe_key)
