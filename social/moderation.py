"""Moderation services: what staff do with reports, each recorded as a ModerationAction."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_deactivate
from config.errors import ApplicationError, PermissionDeniedError
from outbox.services import email_enqueue
from social import tasks
from social.models import ModerationAction, Post, Report, TimelineEntry
from social.services._common import on_commit_task


def _require_staff(moderator: User) -> None:
    if not (moderator.is_active and moderator.is_staff):
        raise PermissionDeniedError("Only staff can moderate.")


def _record(
    *,
    moderator: User,
    kind: str,
    target_user: User | None,
    report: Report | None,
    post: Post | None,
    note: str,
) -> ModerationAction:
    return ModerationAction.objects.create(
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


def _close(report: Report | None, status: str) -> None:
    if report is not None and report.status == Report.Status.OPEN:
        report.status = status
        report.closed_at = timezone.now()
        report.save(update_fields=["status", "closed_at"])


@transaction.atomic
def moderation_hide_post(
    *, moderator: User, post: Post, report: Report | None = None, note: str = ""
) -> None:
    """Hides a post or reply from everyone (the author included) and resolves the report.

    Its images are moved to new names once this commits (``services.media``), so no URL handed
    out before, signed or public, still shows them."""
    _require_staff(moderator)
    if post.hidden_at is None:
        post.hidden_at = timezone.now()
        post.is_pinned = False
        post.save(update_fields=["hidden_at", "is_pinned"])
        TimelineEntry.objects.filter(post=post).delete()
        on_commit_task(tasks.post_images_withdraw, post.pk)
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.HIDE,
        target_user=post.author,
        report=report,
        post=post,
        note=note,
    )
    _close(report, Report.Status.RESOLVED)


@transaction.atomic
def moderation_warn_user(
    *, moderator: User, user: User, report: Report | None = None, note: str = ""
) -> None:
    """Sends the user a warning e-mail (after commit) and records it."""
    _require_staff(moderator)
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.WARN,
        target_user=user,
        report=report,
        post=None,
        note=note,
    )
    _close(report, Report.Status.RESOLVED)
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
    """Suspends (deactivates) the account: no sign-in, no posting, their content disappears."""
    _require_staff(moderator)
    if user.pk == moderator.pk:
        raise ApplicationError("You cannot suspend yourself.")
    if user.is_active:
        user_deactivate(user=user, reason=f"Suspended by moderation. {note}".strip(), actor=moderator)
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.SUSPEND,
        target_user=user,
        report=report,
        post=None,
        note=note,
    )
    _close(report, Report.Status.RESOLVED)


@transaction.atomic
def moderation_resolve(*, moderator: User, report: Report, note: str = "") -> None:
    _require_staff(moderator)
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.RESOLVE,
        target_user=report.target_user,
        report=report,
        post=report.post,
        note=note,
    )
    _close(report, Report.Status.RESOLVED)


@transaction.atomic
def moderation_dismiss(*, moderator: User, report: Report, note: str = "") -> None:
    _require_staff(moderator)
    _record(
        moderator=moderator,
        kind=ModerationAction.Kind.DISMISS,
        target_user=report.target_user,
        report=report,
        post=report.post,
        note=note,
    )
    _close(report, Report.Status.DISMISSED)
