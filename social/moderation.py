"""Moderation services: what staff do with reports, each recorded as a ModerationAction.

Every action checks its own permission (``accounts.roles``), is written to the staff audit log
with the moderator's note, tells the author why (hide, warn, suspend and their undoing), and
closing a report tells the reporter its outcome, by e-mail through the outbox and with an in-app
notification (``REPORT_REVIEWED``) written in the same transaction as the decision; the reporter's
settings for that kind switch either off.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import MODERATE_POST_PERMISSION, MODERATE_REPORT_PERMISSION, SUSPEND_PERMISSION
from accounts.services import user_deactivate
from accounts.services.email_unsubscribe import email_unsubscribe_token
from accounts.services.staff import staff_check, staff_notice_send
from audit.models import AuditEntry
from audit.services import audit_record
from config.errors import ApplicationError, ConflictError, PermissionDeniedError
from outbox.services import email_enqueue
from social import tasks
from social.models import ModerationAction, Notification, Post, Report, TimelineEntry
from social.presenters import REPORT_OUTCOMES, report_about
from social.services._common import on_commit_task
from social.services.notifications import notification_report_reviewed_create


def _require(moderator: User, permission: str) -> None:
    if not (moderator.is_active and moderator.is_staff):
        raise PermissionDeniedError("Only staff can moderate.")
    if not moderator.has_perm(permission):
        raise PermissionDeniedError("You do not have the permission for this moderation action.")


def _record(
    *,
    moderator: User,
    kind: str,
    target_user: User | None,
    report: Report | None,
    post: Post | None,
    note: str,
) -> ModerationAction:
    action = ModerationAction.objects.create(
        moderator=moderator,
        kind=kind,
        target_user=target_user,
        target_handle=target_user.handle
        if target_user is not None
        else (report.target_handle if report else ""),
        report=report,
        post=post,
        note=note,
    )
    audit_record(
        actor=moderator,
        kind=AuditEntry.Kind.MODERATION,
        action=f"moderation.{kind}",
        target_user=target_user,
        obj=report or post or target_user,
        reason=note,
        details={"report": report.pk if report else None, "post": post.pk if post else None},
    )
    return action


def _close(report: Report | None, status: str, action: ModerationAction) -> None:
    """Closes an open report and tells the reporter what came of it, on the site and by e-mail
    (once: a closed report is left as it is)."""
    if report is None or report.status != Report.Status.OPEN:
        return
    report.status = status
    report.closed_at = timezone.now()
    report.save(update_fields=["status", "closed_at"])
    reporter = report.reporter
    if not reporter.is_active:
        return
    notification_report_reviewed_create(action=action)
    kind = Notification.Kind.REPORT_REVIEWED
    profile = getattr(reporter, "profile", None)
    if profile is not None and not profile.wants_notification_email(kind):
        return
    about = report_about(target_handle=report.target_handle, about_post=report.post_id is not None)
    unsubscribe = settings.SITE_URL + reverse(
        "accounts:email_unsubscribe", args=[email_unsubscribe_token(user_id=reporter.pk, kind=kind)]
    )
    email_enqueue(
        to=reporter.email,
        subject=f"{settings.SITE_NAME}: your report was reviewed",
        text=(
            f"Hello @{reporter.handle},\n\nThank you for reporting {about}. A moderator "
            f"reviewed it: {REPORT_OUTCOMES[action.kind]}\n\n{settings.SITE_NAME}\n\n"
            f"No more e-mails about reviews of your reports: {unsubscribe}"
        ),
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@transaction.atomic
def moderation_hide_post(
    *, moderator: User, post: Post, report: Report | None = None, note: str = ""
) -> None:
    """Hides a post or reply from everyone (the author included), tells the author why, and
    resolves the report.

    Its images are moved to new names once this commits (``services.media``), so no URL handed
    out before, signed or public, still shows them."""
    _require(moderator, MODERATE_POST_PERMISSION)
    newly_hidden = post.hidden_at is None
    if newly_hidden:
        post.hidden_at = timezone.now()
        post.is_pinned = False
        post.save(update_fields=["hidden_at", "is_pinned"])
        TimelineEntry.objects.filter(post=post).delete()
        on_commit_task(tasks.post_images_withdraw, post.pk)
    action = _record(
        moderator=moderator,
        kind=ModerationAction.Kind.HIDE,
        target_user=post.author,
        report=report,
        post=post,
        note=note,
    )
    _close(report, Report.Status.RESOLVED, action)
    if newly_hidden:
        staff_notice_send(
            user=post.author,
            subject="a post of yours was hidden",
            text=f'A moderator hid your post "{post.text[:80]}": nobody can see it any more.',
            reason=note,
        )


@transaction.atomic
def moderation_unhide_post(*, moderator: User, post: Post, note: str = "") -> None:
    """Shows a hidden post again (not back in home feeds already built) and tells the author."""
    _require(moderator, MODERATE_POST_PERMISSION)
    if post.hidden_at is None:
        raise ConflictError("This post is not hidden.")
    post.hidden_at = None
    post.save(update_fields=["hidden_at"])
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.UNHIDE,
        target_user=post.author,
        report=None,
        post=post,
        note=note,
    )
    staff_notice_send(
        user=post.author,
        subject="a post of yours is visible again",
        text=f'A moderator restored your post "{post.text[:80]}".',
        reason=note,
    )


@transaction.atomic
def moderation_warn_user(
    *, moderator: User, user: User, report: Report | None = None, note: str = ""
) -> None:
    """Sends the user a warning e-mail (after commit) and records it."""
    _require(moderator, MODERATE_REPORT_PERMISSION)
    action = _record(
        moderator=moderator,
        kind=ModerationAction.Kind.WARN,
        target_user=user,
        report=report,
        post=None,
        note=note,
    )
    _close(report, Report.Status.RESOLVED, action)
    body = (
        f"Hello @{user.handle},\n\nA moderator of {settings.SITE_NAME} reviewed a report about your "
        "account and asks you to follow the community rules."
        + (f"\n\nNote from the moderator: {note}" if note else "")
    )
    email_enqueue(to=user.email, subject=f"A warning from {settings.SITE_NAME}", text=body)


@transaction.atomic
def moderation_suspend_user(
    *, moderator: User, user: User, report: Report | None = None, note: str = ""
) -> None:
    """Suspends (deactivates) the account: no sign-in, no posting, their content disappears.
    Needs ``accounts.suspend_user``; a superuser's account only by a superuser."""
    if user.pk == moderator.pk:
        raise ApplicationError("You cannot suspend yourself.")
    staff_check(actor=moderator, permission=SUSPEND_PERMISSION, user=user)
    newly_suspended = user.is_active
    if newly_suspended:
        user_deactivate(user=user, reason=f"Suspended by moderation. {note}".strip(), actor=moderator)
    action = _record(
        moderator=moderator,
        kind=ModerationAction.Kind.SUSPEND,
        target_user=user,
        report=report,
        post=None,
        note=note,
    )
    _close(report, Report.Status.RESOLVED, action)
    if newly_suspended:
        staff_notice_send(
            user=user,
            subject="your account was suspended",
            text=f"A moderator of {settings.SITE_NAME} suspended your account: you cannot sign in.",
            reason=note,
        )


@transaction.atomic
def moderation_unsuspend_user(*, moderator: User, user: User, note: str = "") -> None:
    """Lifts a suspension: the account can sign in again; the user is told."""
    staff_check(actor=moderator, permission=SUSPEND_PERMISSION, user=user)
    if user.is_active:
        raise ConflictError("This account is not suspended.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.UNSUSPEND,
        target_user=user,
        report=None,
        post=None,
        note=note,
    )
    staff_notice_send(
        user=user,
        subject="your account is no longer suspended",
        text=f"A moderator of {settings.SITE_NAME} lifted the suspension of your account: you can sign in again.",
        reason=note,
    )


@transaction.atomic
def moderation_resolve(*, moderator: User, report: Report, note: str = "") -> None:
    _require(moderator, MODERATE_REPORT_PERMISSION)
    action = _record(
        moderator=moderator,
        kind=ModerationAction.Kind.RESOLVE,
        target_user=report.target_user,
        report=report,
        post=report.post,
        note=note,
    )
    _close(report, Report.Status.RESOLVED, action)


@transaction.atomic
def moderation_dismiss(*, moderator: User, report: Report, note: str = "") -> None:
    _require(moderator, MODERATE_REPORT_PERMISSION)
    action = _record(
        moderator=moderator,
        kind=ModerationAction.Kind.DISMISS,
        target_user=report.target_user,
        report=report,
        post=report.post,
        note=note,
    )
    _close(report, Report.Status.DISMISSED, action)
