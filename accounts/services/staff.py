"""Staff actions on accounts: suspend and reactivate, e-mail verification, sessions.

Each one checks the acting staff member's permission (``staff_check``), writes the change,
records it in the staff audit log in the same transaction, and tells the user by e-mail where
it affects them. The admin's actions and the staff pages call these, never the models.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from accounts.models import SecurityEvent, User
from accounts.roles import ASSIST_PERMISSION, SUSPEND_PERMISSION
from accounts.services import security_event_record, user_deactivate
from audit.models import AuditEntry
from audit.services import audit_record
from config.errors import ConflictError, PermissionDeniedError
from outbox.services import email_enqueue


def staff_check(*, actor: User, permission: str, user: User | None = None) -> None:
    """Raises ``PermissionDeniedError`` unless ``actor`` is active staff holding ``permission``;
    acting on a superuser also takes being one, and nobody acts on their own account here."""
    if not (actor.is_active and actor.is_staff and actor.has_perm(permission)):
        raise PermissionDeniedError("You do not have the permission for this action.")
    if user is not None and user.is_superuser and not actor.is_superuser:
        raise PermissionDeniedError("Only a superuser may do this to a superuser.")
    if user is not None and user.pk == actor.pk:
        raise PermissionDeniedError("Staff actions are not for your own account.")


def staff_notice_send(*, user: User, subject: str, text: str, reason: str = "") -> None:
    """E-mails ``user`` a notice of what staff did to their account (after commit, via the
    outbox), with the reason staff gave."""
    body = f"Hello @{user.handle},\n\n{text}"
    if reason:
        body += f"\n\nThe reason given: {reason}"
    body += f"\n\nQuestions? Reply to this e-mail.\n\n{settings.SITE_NAME}"
    email_enqueue(to=user.email, subject=f"{settings.SITE_NAME}: {subject}", text=body)


def _audit(*, actor: User, user: User, action: str, reason: str, **details: object) -> None:
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.ACCOUNT,
        action=action,
        target_user=user,
        obj=user,
        reason=reason,
        details=dict(details),
    )


@transaction.atomic
def user_deactivate_by_staff(*, user: User, actor: User, reason: str) -> None:
    """Deactivates the account (no sign-in, every session ended, API keys stop) and says why."""
    staff_check(actor=actor, permission=SUSPEND_PERMISSION, user=user)
    if not user.is_active:
        raise ConflictError("This account is already deactivated.")
    user_deactivate(user=user, reason=reason or "admin", actor=actor)
    _audit(actor=actor, user=user, action="user.deactivate", reason=reason)
    staff_notice_send(
        user=user,
        subject="your account was deactivated",
        text=f"Staff of {settings.SITE_NAME} deactivated your account: you cannot sign in.",
        reason=reason,
    )


@transaction.atomic
def user_reactivate(*, user: User, actor: User, reason: str) -> None:
    """Lets a deactivated (or suspended) account sign in again."""
    staff_check(actor=actor, permission=SUSPEND_PERMISSION, user=user)
    if user.is_active:
        raise ConflictError("This account is already active.")
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit(actor=actor, user=user, action="user.reactivate", reason=reason)
    staff_notice_send(
        user=user,
        subject="your account is active again",
        text=f"Staff of {settings.SITE_NAME} reactivated your account: you can sign in again.",
        reason=reason,
    )


@transaction.atomic
def user_email_verification_resend(
    *, user: User, actor: User, reason: str, request: HttpRequest | None = None
) -> str:
    """Sends a new verification e-mail to the user's unverified primary address; returns it."""
    staff_check(actor=actor, permission=ASSIST_PERMISSION, user=user)
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        address = EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    if address.verified:
        raise ConflictError("This address is already verified.")
    address.send_confirmation(request)
    _audit(
        actor=actor, user=user, action="user.email_verification_resend", reason=reason, email=address.email
    )
    return address.email


@transaction.atomic
def user_email_mark_verified(*, user: User, actor: User, reason: str) -> str:
    """Marks the user's primary address verified (e.g. after support checked it by other means),
    in their security log and the audit log; returns it."""
    staff_check(actor=actor, permission=ASSIST_PERMISSION, user=user)
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )
    if address.verified:
        raise ConflictError("This address is already verified.")
    address.verified = True
    address.save(update_fields=["verified"])
    security_event_record(
        user=user,
        kind=SecurityEvent.Kind.EMAIL_VERIFIED,
        detail={"email": address.email, "by_staff": actor.handle},
    )
    _audit(actor=actor, user=user, action="user.email_mark_verified", reason=reason, email=address.email)
    return address.email


@transaction.atomic
def user_sessions_end_all(*, user: User, actor: User, reason: str) -> int:
    """Signs the user out everywhere (each session in their security log); returns how many."""
    from accounts.services.security import user_sessions_end

    staff_check(actor=actor, permission=ASSIST_PERMISSION, user=user)
    sessions = list(UserSession.objects.filter(user=user))
    user_sessions_end(sessions=sessions, request=None)
    _audit(actor=actor, user=user, action="user.sessions_end_all", reason=reason, sessions=len(sessions))
    if sessions:
        staff_notice_send(
            user=user,
            subject="you were signed out everywhere",
            text=f"Staff of {settings.SITE_NAME} ended all your sessions: sign in again to continue.",
            reason=reason,
        )
    return len(sessions)
