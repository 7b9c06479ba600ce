"""Writes for API keys: issue, rotate, revoke (one or all), record use, warn before expiry.

The settings page, the API, the admin and the Celery tasks all come here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import SecurityEvent, User
from accounts.roles import REVOKE_KEYS_PERMISSION
from accounts.services import security_event_record
from accounts.services.staff import staff_check, staff_notice_send
from audit.models import AuditEntry
from audit.services import audit_record
from billing.entitlements import entitlements_get_for_user
from config.errors import ApplicationError, ConflictError
from config.scopes import SCOPES, STAFF_ONLY_SCOPES
from integrations import keys
from integrations.models import ApiKey, ApiKeyAddress
from integrations.selectors import (
    api_key_count_active_for_user,
    api_key_list_expiring_soon,
    api_key_list_usable_for_user,
)
from outbox.services import email_enqueue

logger = logging.getLogger(__name__)

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365
MAX_GRACE_HOURS = 24
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long the cache remembers that a key was already seen from an address (saves the
# database round trip; the unique (key, address) row decides what is really new).
SEEN_ADDRESS_CACHE_SECONDS = 60 * 60 * 24


@dataclass(frozen=True)
class IssuedKey:
    """A key just made: ``token`` is the full key, shown to its owner once and never stored."""

    api_key: ApiKey
    token: str


def _clean_scopes(*, user: User, scopes: list[str]) -> list[str]:
    unknown = sorted({s for s in scopes if s not in SCOPES})
    if unknown:
        raise ApplicationError(
            f"Unknown scope: {', '.join(unknown)}.",
            fields={"scopes": [f"Unknown scope {s!r}." for s in unknown]},
        )
    if not scopes:
        raise ApplicationError(
            "Choose at least one scope.", fields={"scopes": ["Choose at least one scope."]}
        )
    if not user.is_staff and STAFF_ONLY_SCOPES.intersection(scopes):
        raise ApplicationError(
            "Only staff can give a key the admin scope.",
            fields={"scopes": ["Only staff can give a key the admin scope."]},
        )
    return [s for s in SCOPES if s in scopes]  # canonical order, no duplicates


def _create_key_row(*, user: User, name: str, scopes: list[str], expires_at: Any, **extra: Any) -> IssuedKey:
    for _ in range(5):  # a public id collision is astronomically rare; retry rather than fail
        public_id = keys.new_public_id()
        token = keys.make_token(public_id=public_id)
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    user=user,
                    name=name,
                    public_id=public_id,
                    secret_hash=keys.hash_token(token),
                    scopes=scopes,
                    expires_at=expires_at,
                    **extra,
                )
        except IntegrityError:
            continue
        return IssuedKey(api_key=api_key, token=token)
    raise RuntimeError("Could not find a free public id for an API key.")


@transaction.atomic
def api_key_issue(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_in_days: int = DEFAULT_EXPIRY_DAYS,
    request: HttpRequest | None = None,
) -> IssuedKey:
    """Makes a new key for ``user``. The full key is in the result and nowhere else.

    Refuses unknown scopes, the admin scope for non-staff, an expiry outside 1..365 days and a
    key beyond the plan's ``max_api_keys``.
    """
    name = name.strip()
    if not name:
        raise ApplicationError("Give the key a name.", fields={"name": ["Give the key a name."]})
    if not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        message = f"A key expires after 1 to {MAX_EXPIRY_DAYS} days."
        raise ApplicationError(message, fields={"expires_in_days": [message]})
    clean = _clean_scopes(user=user, scopes=scopes)
    # Lock the user's row so two concurrent requests cannot both take the last free slot.
    User.objects.select_for_update().filter(pk=user.pk).first()
    limit = entitlements_get_for_user(user=user).max_api_keys
    if api_key_count_active_for_user(user=user) >= limit:
        raise ConflictError(
            f"Your plan allows {limit} active API keys. Revoke one or upgrade your plan.",
            code="api_key_limit_reached",
            extra={"limit": limit},
        )
    now = timezone.now()
    issued = _create_key_row(
        user=user, name=name, scopes=clean, created_at=now, expires_at=now + timedelta(days=expires_in_days)
    )
    security_event_record(
        user=user,
        kind=SecurityEvent.Kind.API_KEY_CREATED,
        request=request,
        detail={"key": issued.api_key.public_id, "name": name, "scopes": clean},
    )
    _notify_key_created(issued.api_key)
    return issued


@transaction.atomic
def api_key_rotate(*, api_key: ApiKey, grace_hours: int, request: HttpRequest | None = None) -> IssuedKey:
    """Issues a replacement with the same name, scopes and lifetime; the old key keeps working
    for ``grace_hours`` (0 to 24), then stops. Only an active key can be rotated."""
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        message = f"The grace period is 0 to {MAX_GRACE_HOURS} hours."
        raise ApplicationError(message, fields={"grace_hours": [message]})
    old = ApiKey.objects.select_for_update().select_related("user").get(pk=api_key.pk)
    if old.status != ApiKey.Status.ACTIVE:
        raise ConflictError(f"Only an active key can be rotated; this one is {old.status_label.lower()}.")
    now = timezone.now()
    lifetime = min(old.expires_at - old.created_at, timedelta(days=MAX_EXPIRY_DAYS))
    scopes = [s for s in old.scopes if old.user.is_staff or s not in STAFF_ONLY_SCOPES]
    old.grace_expires_at = now + timedelta(hours=grace_hours)
    old.save(update_fields=["grace_expires_at"])
    issued = _create_key_row(
        user=old.user,
        name=old.name,
        scopes=scopes,
        created_at=now,
        expires_at=now + lifetime,
        rotated_from=old,
    )
    security_event_record(
        user=old.user,
        kind=SecurityEvent.Kind.API_KEY_ROTATED,
        request=request,
        detail={"key": old.public_id, "new_key": issued.api_key.public_id, "grace_hours": grace_hours},
    )
    _notify_key_created(issued.api_key)
    api_key.grace_expires_at = old.grace_expires_at
    return issued


@transaction.atomic
def api_key_revoke(
    *, api_key: ApiKey, actor: User | None = None, request: HttpRequest | None = None
) -> ApiKey:
    """Stops the key at once (also during a rotation's grace period). Revoking twice is a no-op."""
    locked = ApiKey.objects.select_for_update().select_related("user").get(pk=api_key.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    api_key.revoked_at = locked.revoked_at
    detail: dict[str, Any] = {"key": locked.public_id, "name": locked.name}
    if actor is not None and actor.pk != locked.user_id:
        detail["by"] = actor.handle
    security_event_record(
        user=locked.user, kind=SecurityEvent.Kind.API_KEY_REVOKED, request=request, detail=detail
    )
    return locked


@transaction.atomic
def api_keys_revoke_all(*, user: User, reason: str, request: HttpRequest | None = None) -> int:
    """Stops every key of ``user`` that still works (also those in a rotation's grace period),
    e.g. after a password reset; returns how many. Each one is logged with ``reason``."""
    usable = list(api_key_list_usable_for_user(user=user).select_for_update())
    now = timezone.now()
    for api_key in usable:
        api_key.revoked_at = now
        api_key.save(update_fields=["revoked_at"])
        security_event_record(
            user=user,
            kind=SecurityEvent.Kind.API_KEY_REVOKED,
            request=request,
            detail={"key": api_key.public_id, "name": api_key.name, "reason": reason},
        )
    return len(usable)


def _notify_key_created(api_key: ApiKey) -> None:
    """Tells the owner a key was made (by creation or rotation): an outbox row in the caller's
    transaction, delivered after commit, so a session stolen despite re-authentication cannot
    mint a key unnoticed."""
    context = {
        "api_key": api_key,
        "user": api_key.user,
        "site_name": settings.SITE_NAME,
        "manage_url": f"{settings.SITE_URL}/settings/api-keys/",
    }
    email_enqueue(
        to=api_key.user.email,
        subject=render_to_string("integrations/email/key_created_subject.txt", context).strip(),
        text=render_to_string("integrations/email/key_created_message.txt", context),
    )


def api_key_record_use(
    *, api_key: ApiKey, ip_address: str | None, request: HttpRequest | None = None
) -> None:
    """Notes that the key was just used, from where.

    Called on every key-authenticated request, so it must cost nothing most of the time:
    ``last_used_at``/``last_used_ip`` are written at most once a minute per key (a conditional
    UPDATE, so concurrent requests write once), and an address already seen
    today costs one cache round trip. Deliberately not atomic: a savepoint per request would cost more than the write.
    """
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now, last_used_ip=ip_address)
    if ip_address and cache.add(
        f"integrations:apikey-ip:{api_key.pk}:{ip_address}", 1, SEEN_ADDRESS_CACHE_SECONDS
    ):
        # First sight of this address for this key within a day, on any web process: the
        # database (a unique pair) decides whether it is really new.
        api_key_address_note(api_key=api_key, ip_address=ip_address, request=request)


@transaction.atomic
def api_key_address_note(*, api_key: ApiKey, ip_address: str, request: HttpRequest | None = None) -> bool:
    """Remembers an address the key was used from; the first use from a new one goes to the
    owner's security log. Returns whether the address was new."""
    _, created = ApiKeyAddress.objects.get_or_create(api_key=api_key, ip_address=ip_address)
    if created:
        security_event_record(
            user=api_key.user,
            kind=SecurityEvent.Kind.API_KEY_NEW_IP,
            request=request,
            ip_address=ip_address,
            detail={"key": api_key.public_id, "name": api_key.name},
        )
    return created


def _enqueue_expiry_warning(api_key_id: int) -> None:
    api_key = ApiKey.objects.select_related("user").get(pk=api_key_id)
    context = {
        "api_key": api_key,
        "user": api_key.user,
        "site_name": settings.SITE_NAME,
        "manage_url": f"{settings.SITE_URL}/settings/api-keys/",
    }
    email_enqueue(
        to=api_key.user.email,
        subject=render_to_string("integrations/email/key_expiring_subject.txt", context),
        text=render_to_string("integrations/email/key_expiring_message.txt", context),
        dedupe_key=f"integrations:api-key-expiry:{api_key.pk}",
    )


@transaction.atomic
def api_key_expiry_warning_send(*, api_key: ApiKey) -> bool:
    """E-mails the owner that the key expires within 7 days, once per key (the claim on
    ``expiry_warning_sent_at`` is a conditional UPDATE, so two workers never both send). The
    e-mail is an outbox row in the same transaction as the claim: delivered after commit and
    retried until the SMTP server accepts it, so a claimed warning is never lost."""
    claimed = ApiKey.objects.filter(pk=api_key.pk, expiry_warning_sent_at__isnull=True).update(
        expiry_warning_sent_at=timezone.now()
    )
    if claimed:
        _enqueue_expiry_warning(api_key.pk)
    return bool(claimed)


def api_key_expiry_warnings_send() -> int:
    """Warns the owner of every key that expires within 7 days, once per key; returns how many
    were sent. Safe to run twice (see ``api_key_expiry_warning_send``)."""
    return sum(api_key_expiry_warning_send(api_key=api_key) for api_key in api_key_list_expiring_soon())


# --- Staff actions (the admin's, the staff pages') ------------------------------------------------


@transaction.atomic
def api_key_revoke_by_staff(
    *, api_key: ApiKey, actor: User, reason: str, request: HttpRequest | None = None
) -> None:
    """Staff revoking one key: checked, in the owner's security log and the audit log, e-mailed."""
    staff_check(actor=actor, permission=REVOKE_KEYS_PERMISSION, user=api_key.user)
    if api_key.revoked_at is not None:
        raise ConflictError("This key is already revoked.")
    api_key_revoke(api_key=api_key, actor=actor, request=request)
    audit_record(
        actor=actor, kind=AuditEntry.Kind.SECURITY, action="api_key.revoke", obj=api_key, reason=reason
    )
    staff_notice_send(
        user=api_key.user,
        subject="an API key was revoked",
        text=f'Staff revoked your API key "{api_key.name}" ({api_key.public_id}): it no longer works.',
        reason=reason,
    )


@transaction.atomic
def api_keys_revoke_all_by_staff(*, user: User, actor: User, reason: str) -> int:
    """Staff revoking every working key of ``user``: checked, audited, e-mailed; returns how many."""
    staff_check(actor=actor, permission=REVOKE_KEYS_PERMISSION, user=user)
    count = api_keys_revoke_all(user=user, reason=f"revoked by staff: {reason}")
    audit_record(
        actor=actor,
        kind=AuditEntry.Kind.SECURITY,
        action="user.api_keys_revoke_all",
        target_user=user,
        obj=user,
        reason=reason,
        details={"keys": count},
    )
    if count:
        staff_notice_send(
            user=user,
            subject="your API keys were revoked",
            text=f"Staff revoked all your API keys ({count}): they no longer work.",
            reason=reason,
        )
    return count
