"""Helpers that build referral state through the services, as production does."""

from __future__ import annotations

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from referrals.hashing import ip_hash
from referrals.models import Referral
from referrals.services import referral_attribute, referral_code_ensure

__all__ = ["DEFAULT_PASSWORD", "make_referral", "referrer_code", "signup_payload"]


def referrer_code(user: User) -> str:
    return referral_code_ensure(user=user).code


def make_referral(*, referrer: User | None = None, referred: User | None = None, ip: str = "") -> Referral:
    referrer = referrer or UserFactory()
    referred = referred or UserFactory()
    return referral_attribute(
        referred=referred,
        code=referrer_code(referrer),
        source=Referral.Source.TYPED,
        ip_hash=ip_hash(ip) if ip else "",
    )


def signup_payload(n: int | str, **extra: str) -> dict[str, str]:
    data = {
        "email": f"new{n}@example.org",
        "username": f"new{n}",
        "password1": "a-long-enough-password-1",
        "password2": "a-long-enough-password-1",
    }
    data.update(extra)
    return data
