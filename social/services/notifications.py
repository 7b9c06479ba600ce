"""Notifications: created by the other services, read and cleared by their recipient."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.errors import NotFoundError
from social import tasks
from social.models import ModerationAction, Notification, Post
from social.selectors.visibility import block_exists_between, mute_exists


def notification_create(
    *, recipient: User, actor: User, kind: str, post: Post | None = None
) -> Notification | None:
    """Notifies ``recipient`` unless they switched the kind off, block/mute ``actor``, or it is themself.

    The same (actor, kind, post) is notified once while unread, so like/unlike/like is no spam.
    Callers make sure the recipient may see ``post`` (what the notification would quote).
    """
    if recipient.pk == actor.pk or not recipient.is_active:
        return None
    profile = getattr(recipient, "profile", None)
    if profile is not None and not profile.wants_notification(kind):
        return None
    if block_exists_between(a_id=recipient.pk, b_id=actor.pk):
        return None
    if mute_exists(muter_id=recipient.pk, muted_id=actor.pk):
        return None
    existing = Notification.objects.filter(
        recipient=recipient, actor=actor, kind=kind, post=post, read_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    notification = Notification.objects.create(recipient=recipient, actor=actor, kind=kind, post=post)
    if profile is not None and profile.wants_notification_email(kind):
        # The task decides between an e-mail now and a later digest (social.notification_emails).
        transaction.on_commit(lambda: tasks.notification_emails_send.delay(recipient.pk))
    return notification


def notification_report_reviewed_create(*, action: ModerationAction) -> Notification | None:
    """Tells a reporter, on the site, that a moderator reviewed their report and what came of it
    (``action``, the decision that closed the report). From the site, not a person: no actor,
    so no moderator is named. Nothing if the reporter switched the kind off or is suspended.
    Its e-mail is the moderation service's own outcome e-mail, not a notification e-mail.
    Call inside the decision's transaction, so the notice and the decision stand or fall together.
    """
    report = action.report
    if report is None:
        return None
    reporter = report.reporter
    profile = getattr(reporter, "profile", None)
    kind = Notification.Kind.REPORT_REVIEWED
    if not reporter.is_active or (profile is not None and not profile.wants_notification(kind)):
        return None
    return Notification.objects.create(recipient=reporter, actor=None, kind=kind, moderation_action=action)


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> None:
    updated = Notification.objects.filter(pk=notification_id, recipient=user).update(read_at=timezone.now())
    if not updated:
        raise NotFoundError("No such notification.")


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
