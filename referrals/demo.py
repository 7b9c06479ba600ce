"""Demo data: everyone has a code; alice referred bob (idempotent)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from referrals.models import Referral
from referrals.services import referral_attribute, referral_code_ensure


def seed(*, users: list[User], stdout: Any) -> None:
    by_handle = {u.handle: u for u in users}
    for user in users:
        referral_code_ensure(user=user)
    alice, bob = by_handle.get("alice"), by_handle.get("bob")
    if alice and bob and not Referral.objects.filter(referred=bob).exists():
        referral_attribute(
            referred=bob, code=referral_code_ensure(user=alice).code, source=Referral.Source.TYPED
        )
    if alice:
        stdout.write(f"Referrals: alice's link is /r/{referral_code_ensure(user=alice).code}")
