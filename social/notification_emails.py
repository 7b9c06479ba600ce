"""Notification e-mails ("Send me notification e-mails", per kind): the first at once, then at
most one digest per ``NOTIFICATION_EMAIL_DIGEST_MINUTES`` per person.

How it runs:
1. ``notification_create`` queues ``social.tasks.notification_emails_send`` after commit when the
   recipient wants e-mails of that kind (``Profile.wants_notification_email``).
2. The task runs ``notification_emails_send``: under the row lock of the user's
   ``NotificationEmailState`` it takes every notification newer than its ``cursor``. If nothing
   was sent in the last interval, it sends them now: one notification reads as itself, several
   as a digest. Otherwise it only notes when the digest is due (``due_at``).
3. The beat sweep (``notification_digests_send_due``, every minute) sends each digest whose turn
   has come, so a digest waits for no task with a countdown (a lost task cannot lose it, and
   a burst of likes is one row's ``due_at``, not a queue of delayed tasks).

Notifications read on the site in the meantime, of kinds switched off since, or from people
suspended since, are left out; when nothing is left, nothing is sent. Every e-mail carries a
one-click unsubscribe link (RFC 8058 ``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers and
a link in the text), for its kind, or for all notification e-mails in a digest. It goes through
the outbox with a dedupe key, so a task run twice sends one e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationEmailState, Profile
from accounts.services.email_unsubscribe import ALL_KINDS, KIND_TOPICS, email_unsubscribe_token
from outbox.services import email_enqueue
from social.models import Notification

# Kinds whose e-mail their own service sends (a report's outcome: social.moderation), never in a
# notification e-mail or digest.
OWN_EMAIL_KINDS = frozenset({Notification.Kind.REPORT_REVIEWED})
# A digest lists this many notifications and says how many more there are.
DIGEST_MAX_ITEMS = 20
# The sweep takes at most this many people per run; the rest wait a minute.
SWEEP_BATCH = 500

_ACTIONS: dict[str, str] = {
    Notification.Kind.FOLLOW: "followed you",
    Notification.Kind.FOLLOW_REQUEST: "asked to follow you",
    Notification.Kind.FOLLOW_ACCEPTED: "accepted your follow request",
    Notification.Kind.LIKE: "liked your post",
    Notification.Kind.REPLY: "replied to your post",
    Notification.Kind.MENTION: "mentioned you",
    Notification.Kind.REPOST: "reposted your post",
}


@dataclass(frozen=True)
class EmailItem:
    """One notification as an e-mail line."""

    actor: str
    action: str
    excerpt: str
    url: str


def digest_interval() -> timedelta:
    return timedelta(minutes=settings.NOTIFICATION_EMAIL_DIGEST_MINUTES)


@transaction.atomic
def notification_emails_send(*, user_id: int, now: datetime | None = None) -> int:
    """Sends the user's pending notification e-mail if its turn has come; returns how many
    notifications it told of (0: nothing pending, not wanted, or the digest is not due yet, in
    which case ``due_at`` says when). Safe to run twice or concurrently (row lock, dedupe key)."""
    now = now or timezone.now()
    profile = Profile.objects.select_related("user").filter(user_id=user_id).first()
    if profile is None:
        return 0  # the account was deleted before its task ran
    NotificationEmailState.objects.get_or_create(user_id=user_id)
    state = NotificationEmailState.objects.select_for_update().get(user_id=user_id)
    pending = _pending(state=state, profile=profile)
    if not pending:
        state.due_at = None
        state.save(update_fields=["due_at"])
        return 0
    turn = state.last_sent_at + digest_interval() if state.last_sent_at else now
    if now < turn:
        state.due_at = turn
        state.save(update_fields=["due_at"])
        return 0
    _enqueue(profile=profile, notifications=pending)
    state.cursor = max(n.pk for n in pending)
    state.last_sent_at = now
    state.due_at = None
    state.save(update_fields=["cursor", "last_sent_at", "due_at"])
    return len(pending)


def notification_digests_send_due(*, now: datetime | None = None) -> int:
    """Beat, every minute: sends every digest whose turn has come; returns how many e-mails."""
    now = now or timezone.now()
    user_ids = list(
        NotificationEmailState.objects.filter(due_at__lte=now)
        .order_by("due_at")
        .values_list("user_id", flat=True)[:SWEEP_BATCH]
    )
    return sum(1 for user_id in user_ids if notification_emails_send(user_id=user_id, now=now))


def _pending(*, state: NotificationEmailState, profile: Profile) -> list[Notification]:
    """The notifications an e-mail would now tell of, oldest first."""
    user = profile.user
    kinds = [
        kind
        for kind in Notification.Kind.values
        if kind not in OWN_EMAIL_KINDS and profile.wants_notification_email(kind)
    ]
    if not user.is_active or not kinds or not _address_verified(user_id=user.pk, email=user.email):
        return []
    return list(
        Notification.objects.filter(
            recipient_id=user.pk,
            pk__gt=state.cursor,
            kind__in=kinds,
            read_at__isnull=True,
            actor__is_active=True,
        )
        .select_related("actor__profile", "post")
        .order_by("pk")
    )


def _address_verified(*, user_id: int, email: str) -> bool:
    # Never mail an address its owner has not confirmed (it may be someone else's).
    return EmailAddress.objects.filter(user_id=user_id, email__iexact=email, verified=True).exists()


def _item(notification: Notification) -> EmailItem:
    actor = notification.actor
    if actor is None:
        # _pending takes notifications from people only: the site's own have their own e-mail.
        raise ValueError(f"Notification {notification.pk} has no actor to tell of.")
    display_name = actor.profile.display_name if hasattr(actor, "profile") else ""
    post = notification.post
    if post is not None and post.is_live:
        excerpt = " ".join(post.text.split())
        excerpt = excerpt if len(excerpt) <= 120 else excerpt[:119] + "…"
        url = settings.SITE_URL + reverse("social:post", args=[post.pk])
    else:
        excerpt = ""
        url = f"{settings.SITE_URL}/@{actor.handle}"
    return EmailItem(
        actor=f"{display_name} (@{actor.handle})" if display_name else f"@{actor.handle}",
        action=_ACTIONS.get(notification.kind, ""),
        excerpt=excerpt,
        url=url,
    )


def _unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = email_unsubscribe_token(user_id=user_id, kind=kind)
    return settings.SITE_URL + reverse("accounts:email_unsubscribe", args=[token])


def _enqueue(*, profile: Profile, notifications: list[Notification]) -> None:
    user = profile.user
    kinds = sorted({n.kind for n in notifications})
    single_kind = kinds[0] if len(kinds) == 1 else ALL_KINDS
    unsubscribe_url = _unsubscribe_url(user_id=user.pk, kind=single_kind)
    context = {
        "site_name": settings.SITE_NAME,
        "name": profile.name,
        "items": [_item(n) for n in notifications[-DIGEST_MAX_ITEMS:]],
        "more": max(0, len(notifications) - DIGEST_MAX_ITEMS),
        "total": len(notifications),
        "notifications_url": settings.SITE_URL + reverse("social:notifications"),
        "settings_url": settings.SITE_URL + reverse("accounts:notifications_edit"),
        "unsubscribe_url": unsubscribe_url,
        "unsubscribe_topic": "these e-mails"
        if single_kind == ALL_KINDS
        else f"e-mails about {KIND_TOPICS[single_kind]}",
        "unsubscribe_all_url": (
            unsubscribe_url if single_kind == ALL_KINDS else _unsubscribe_url(user_id=user.pk, kind=ALL_KINDS)
        ),
    }
    email_enqueue(
        to=user.email,
        template="social/email/notifications",
        context=context,
        # One e-mail per batch however often the task runs (a retried or duplicated task).
        dedupe_key=f"notification-email:{user.pk}:{notifications[-1].pk}",
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
