"""One-click unsubscribe from notification e-mails: the signed link and what following it does.

The link carries a signed ``(user id, kind)`` pair and nothing else: whoever holds it may stop
(or restart) those e-mails for that user, with no session (RFC 8058: a mail client POSTs it
without cookies). It does not expire, as the e-mails it sits in are read months later; it is
bound to the SECRET_KEY through its own salt, so no other signed value of the site works as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db import transaction

from accounts.models import NOTIFICATION_KINDS, Profile, User
from config.errors import NotFoundError

ALL_KINDS = "all"
_SALT = "accounts.email-unsubscribe"
# What each kind's e-mails are about, as the e-mails and the confirmation page name them.
KIND_TOPICS: dict[str, str] = {
    "follow": "new followers",
    "follow_request": "follow requests",
    "follow_accepted": "accepted follow requests",
    "like": "likes",
    "reply": "replies",
    "mention": "mentions",
    "repost": "reposts",
    "report_reviewed": "reviews of your reports",
}


@dataclass(frozen=True)
class UnsubscribeLink:
    user: User
    kind: str  # a key of NOTIFICATION_KINDS, or ALL_KINDS

    @property
    def label(self) -> str:
        """What the e-mails are about, as the confirmation page says it."""
        if self.kind == ALL_KINDS:
            return "all notification e-mails"
        return f"e-mails about {KIND_TOPICS.get(self.kind, self.kind)}"


def email_unsubscribe_token(*, user_id: int, kind: str) -> str:
    """The token of the unsubscribe link for ``kind`` (or ``ALL_KINDS``) of this user's e-mails."""
    if kind != ALL_KINDS and kind not in NOTIFICATION_KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    return signing.dumps({"u": user_id, "k": kind}, salt=_SALT)


def email_unsubscribe_link_read(*, token: str) -> UnsubscribeLink:
    """The user and kind a token names; ``NotFoundError`` for a forged, damaged or stale token
    (the account is gone, or the kind no longer exists)."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature as exc:
        raise NotFoundError("This unsubscribe link is not valid.") from exc
    kind = payload.get("k") if isinstance(payload, dict) else None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    if not isinstance(user_id, int) or (kind != ALL_KINDS and kind not in NOTIFICATION_KINDS):
        raise NotFoundError("This unsubscribe link is not valid.")
    user = User.objects.filter(pk=user_id).select_related("profile").first()
    if user is None:
        raise NotFoundError("This unsubscribe link is not valid.")
    return UnsubscribeLink(user=user, kind=str(kind))


@transaction.atomic
def notification_email_subscription_set(*, link: UnsubscribeLink, subscribed: bool) -> Profile:
    """Stops (or restarts) the e-mails the link names. ``ALL_KINDS`` is the settings page's
    "Send me notification e-mails" switch; a kind is that kind's e-mails only (the in-app notification
    stays). Idempotent: a mail client may POST the same link twice."""
    profile = Profile.objects.select_for_update().get(user=link.user)
    if link.kind == ALL_KINDS:
        profile.email_notifications = subscribed
        profile.save(update_fields=["email_notifications", "updated_at"])
        return profile
    preferences = {**profile.notification_email_preferences, link.kind: subscribed}
    if subscribed:
        # Back to "on" also turns on the switch that gates every e-mail, so the choice works.
        profile.email_notifications = True
    profile.notification_email_preferences = preferences
    profile.save(update_fields=["notification_email_preferences", "email_notifications", "updated_at"])
    return profile
