"""Writes for referrals: codes, clicks, attribution, fraud flags, review, rewards."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from config.errors import ApplicationError, ConflictError
from referrals.hashing import new_code, normalize_code
from referrals.models import Click, Referral, ReferralCode, UserSignal
from referrals.selectors import invoice_paid_before_exists, referral_chain_contains

# Throwaway e-mail providers; REFERRAL_BLOCKED_EMAIL_DOMAINS adds more.
DISPOSABLE_EMAIL_DOMAINS = frozenset(
    {
        "10minutemail.com",
        "discard.email",
        "dispostable.com",
        "fakeinbox.com",
        "getnada.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "maildrop.cc",
        "mailinator.com",
        "mintemail.com",
        "mohmal.com",
        "sharklasers.com",
        "temp-mail.org",
        "tempmail.com",
        "tempmailo.com",
        "throwawaymail.com",
        "trashmail.com",
        "yopmail.com",
    }
)


CLICK_DEDUP_SECONDS = 30 * 60
# pg_advisory_xact_lock key serialising codes applied after sign-up (the cycle check).
APPLY_LOCK_KEY = 0x52454631  # "REF1"


class FlagReason:
    SAME_IP = "same_ip"
    SAME_DEVICE = "same_device"
    SAME_CARD = "same_card"
    DISPOSABLE_EMAIL = "disposable_email"
    IP_VELOCITY = "ip_velocity"


# --- Codes and signals ---------------------------------------------------------------------------


def referral_code_ensure(*, user: User) -> ReferralCode:
    """The user's referral code, created on first need (a fresh code on the rare collision)."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _ in range(10):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=new_code())
        except IntegrityError:
            # Either this user got a code concurrently, or the random code is taken.
            existing = ReferralCode.objects.filter(user=user).first()
            if existing is not None:
                return existing
    raise RuntimeError("Could not allocate a unique referral code.")  # pragma: no cover


def referral_code_lookup(*, code: str) -> ReferralCode | None:
    """The active user's code matching what was typed, in any case; None when unknown."""
    normalized = normalize_code(code)
    if not normalized:
        return None
    return ReferralCode.objects.select_related("user").filter(code=normalized, user__is_active=True).first()


def user_signal_record(*, user: User, kind: str, value_hash: str) -> None:
    """Remembers (hashed) that the user was seen from an IP or device; an upsert, race-free."""
    if not value_hash:
        return
    now = timezone.now()
    UserSignal.objects.bulk_create(
        [UserSignal(user=user, kind=kind, value_hash=value_hash, created_at=now, last_seen_at=now)],
        update_conflicts=True,
        unique_fields=["user", "kind", "value_hash"],
        update_fields=["last_seen_at"],
    )


@transaction.atomic
def user_signal_record_seen(*, user: User, ip_hash: str, device_hash: str) -> None:
    """Records a sign-in or a visit of one's own referral pages (for the same-person checks)."""
    user_signal_record(user=user, kind=UserSignal.Kind.SEEN_IP, value_hash=ip_hash)
    user_signal_record(user=user, kind=UserSignal.Kind.DEVICE, value_hash=device_hash)


@transaction.atomic
def referral_click_record(
    *, code: str, visitor: User | None, ip_hash: str, device_hash: str
) -> ReferralCode | None:
    """Counts a visit of ``/r/<code>``. Returns the code, or None when it is unknown.

    A signed-in owner opening their own link is not a click: it tells us their IP and device.
    Repeated visits from one IP within CLICK_DEDUP_SECONDS count once.
    """
    referral_code = referral_code_lookup(code=code)
    if referral_code is None:
        return None
    if visitor is not None and visitor.pk == referral_code.user_id:
        user_signal_record_seen(user=visitor, ip_hash=ip_hash, device_hash=device_hash)
        return referral_code
    # One click per visitor (IP hash) and link per half hour: reloads and bots do not inflate stats.
    if ip_hash and not cache.add(
        f"referrals:click:{referral_code.user_id}:{ip_hash}", 1, CLICK_DEDUP_SECONDS
    ):
        return referral_code
    Click.objects.create(referrer=referral_code.user, ip_hash=ip_hash, device_hash=device_hash)
    return referral_code


# --- Attribution ----------------------------------------------------------------------------------


def _email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def referral_fraud_flags(*, referrer: User, referred: User, ip_hash: str, device_hash: str) -> list[str]:
    """Why this referral looks like one person referring themself (empty when it does not)."""
    flags: list[str] = []
    referrer_signals = UserSignal.objects.filter(user=referrer)
    if (
        ip_hash
        and referrer_signals.filter(
            kind__in=[UserSignal.Kind.SIGNUP_IP, UserSignal.Kind.SEEN_IP], value_hash=ip_hash
        ).exists()
    ):
        flags.append(FlagReason.SAME_IP)
    if device_hash and referrer_signals.filter(kind=UserSignal.Kind.DEVICE, value_hash=device_hash).exists():
        flags.append(FlagReason.SAME_DEVICE)
    blocked = DISPOSABLE_EMAIL_DOMAINS | {d.lower() for d in settings.REFERRAL_BLOCKED_EMAIL_DOMAINS}
    if _email_domain(referred.email) in blocked:
        flags.append(FlagReason.DISPOSABLE_EMAIL)
    if ip_hash:
        since = timezone.now() - timedelta(hours=settings.REFERRAL_SIGNUP_IP_WINDOW_HOURS)
        others = (
            UserSignal.objects.filter(
                kind=UserSignal.Kind.SIGNUP_IP, value_hash=ip_hash, created_at__gte=since
            )
            .exclude(user=referred)
            .count()
        )
        if others >= settings.REFERRAL_MAX_SIGNUPS_PER_IP:
            flags.append(FlagReason.IP_VELOCITY)
    return flags


@transaction.atomic
def referral_attribute(
    *, referred: User, code: str, source: str, ip_hash: str = "", device_hash: str = ""
) -> Referral:
    """Makes the owner of ``code`` the referrer of ``referred``.

    Raises ApplicationError for an unknown code, one's own code or a code whose owner is
    ``referred``'s referral (directly or down a chain: no cycles), ConflictError when the user
    already has a referrer (one referrer per user, fixed once set: the unique column decides,
    not a check). Suspicious referrals are created ``flagged`` so they are never rewarded
    without a review.
    """
    referral_code = referral_code_lookup(code=code)
    if referral_code is None:
        raise ApplicationError(
            "This referral code does not exist.",
            code="unknown_code",
            fields={"code": ["Unknown referral code."]},
        )
    referrer = referral_code.user
    if referrer.pk == referred.pk:
        raise ApplicationError(
            "You cannot use your own referral code.",
            code="self_referral",
            fields={"code": ["This is your own referral code."]},
        )
    if source == Referral.Source.APPLIED:
        # Two applications can each be fine alone and close a loop together (A applies B's
        # code while B applies A's): one at a time. A code typed or linked at sign-up needs
        # no lock: nobody can have used the new user's code yet.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPLY_LOCK_KEY])
    if referral_chain_contains(start=referrer, user=referred):
        raise ApplicationError(
            "You cannot use this code: its owner was brought here by you, directly or through others.",
            code="circular_referral",
            fields={"code": ["This code's owner was referred by you, directly or through others."]},
        )
    flags = referral_fraud_flags(
        referrer=referrer, referred=referred, ip_hash=ip_hash, device_hash=device_hash
    )
    try:
        with transaction.atomic():
            return Referral.objects.create(
                referrer=referrer,
                referred=referred,
                code=referral_code.code,
                source=source,
                status=Referral.Status.FLAGGED if flags else Referral.Status.SIGNED_UP,
                flag_reasons=flags,
                signup_ip_hash=ip_hash,
                device_hash=device_hash,
            )
    except IntegrityError:
        raise ConflictError(
            "You already have a referrer; it cannot be changed.", code="already_referred"
        ) from None


def referral_apply_window_ends(*, user: User) -> datetime:
    """Until when ``user`` may apply a code after sign-up (REFERRAL_APPLY_WINDOW_DAYS)."""
    return user.date_joined + timedelta(days=settings.REFERRAL_APPLY_WINDOW_DAYS)


def referral_apply_refusal(*, user: User) -> ApplicationError | None:
    """Why ``user`` may not apply a referral code now, or None when they may.

    The one place of the rule: once only, within the window after sign-up, and before the
    user's first paid invoice (a referral rewards bringing a customer, not an existing one).
    """
    if Referral.objects.filter(referred=user).exists():
        return ConflictError("You already have a referrer; it cannot be changed.", code="already_referred")
    if timezone.now() > referral_apply_window_ends(user=user):
        return ApplicationError(
            f"A referral code can only be applied within {settings.REFERRAL_APPLY_WINDOW_DAYS} days of sign-up.",
            code="apply_window_closed",
        )
    if invoice_paid_before_exists(user=user):
        return ApplicationError(
            "A referral code can only be applied before your first payment.", code="already_paying"
        )
    return None


@transaction.atomic
def referral_apply(*, user: User, code: str, ip_hash: str = "", device_hash: str = "") -> Referral:
    """Applies a code after sign-up when ``referral_apply_refusal`` allows it (else raises it)."""
    refusal = referral_apply_refusal(user=user)
    if refusal is not None:
        raise refusal
    return referral_attribute(
        referred=user, code=code, source=Referral.Source.APPLIED, ip_hash=ip_hash, device_hash=device_hash
    )


@transaction.atomic
def referral_signup_record(
    *,
    user: User,
    ip_hash: str,
    device_hash: str,
    typed_code: str = "",
    cookie_code: str = "",
) -> Referral | None:
    """Everything referrals does when someone signs up (page, headless API or social login).

    Gives the new user a code, remembers their sign-up IP and device (hashed), and attributes
    them to the typed code, else to the link they came from. A bad cookie never blocks a sign-up.
    """
    referral_code_ensure(user=user)
    referral: Referral | None = Referral.objects.filter(referred=user).first()
    # The typed code wins over the link. The sign-up form has validated it already.
    for code, source in ((typed_code, Referral.Source.TYPED), (cookie_code, Referral.Source.LINK)):
        if referral is not None or not code:
            continue
        try:
            with transaction.atomic():
                referral = referral_attribute(
                    referred=user, code=code, source=source, ip_hash=ip_hash, device_hash=device_hash
                )
        except ApplicationError:
            referral = None
    # Recorded after the checks so the user's own sign-up does not count against them.
    user_signal_record(user=user, kind=UserSignal.Kind.SIGNUP_IP, value_hash=ip_hash)
    user_signal_record(user=user, kind=UserSignal.Kind.DEVICE, value_hash=device_hash)
    return referral


# --- Review ----------------------------------------------------------------------------------------


@transaction.atomic
def referral_approve(*, referral: Referral, actor: User) -> Referral:
    """Clears a flagged (or rejected) referral; a referral that already converted earns its reward."""
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status not in (Referral.Status.FLAGGED, Referral.Status.REJECTED):
        raise ConflictError("Only flagged or rejected referrals can be approved.", code="not_flagged")
    referral.status = Referral.Status.CONVERTED if referral.converted_at else Referral.Status.SIGNED_UP
    referral.reviewed_by = actor
    referral.reviewed_at = timezone.now()
    referral.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    if referral.converted_at:
        from referrals.rewards import reward_create_for_conversion

        reward_create_for_conversion(referral=referral)
    return referral


@transaction.atomic
def referral_reject(*, referral: Referral, actor: User) -> Referral:
    """Refuses a referral: it will never be rewarded; a pending reward is cancelled."""
    from referrals.models import Reward

    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status == Referral.Status.REWARDED:
        raise ConflictError(
            "A rewarded referral cannot be rejected; reverse its reward.", code="already_rewarded"
        )
    referral.status = Referral.Status.REJECTED
    referral.reviewed_by = actor
    referral.reviewed_at = timezone.now()
    referral.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    Reward.objects.filter(referral=referral, status=Reward.Status.PENDING).update(
        status=Reward.Status.CANCELLED, cancelled_at=timezone.now(), note="Referral rejected"
    )
    return referral
