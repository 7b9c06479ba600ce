"""Demo data for local use: a staff user and a few ordinary users, all verified."""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from accounts.models import Profile, User

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - printed in the README on purpose
# The demo staff user's authenticator-app secret (the admin opens only with two-factor
# authentication): printed in the README on purpose, for local use only.
DEMO_STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105


@dataclass(frozen=True)
class DemoUser:
    email: str
    handle: str
    display_name: str
    bio: str
    is_staff: bool = False


DEMO_USERS = [
    DemoUser("admin@example.com", "admin", "Ada Admin", "I run this place.", is_staff=True),
    DemoUser("alice@example.com", "alice", "Alice Liddell", "Curious about everything."),
    DemoUser("bob@example.com", "bob", "Bob Builder", "Can we fix it? Yes we can."),
    DemoUser("carol@example.com", "carol", "Carol Danvers", "Private account, ask to follow."),
]


@transaction.atomic
def seed_users() -> list[User]:
    """Creates the demo users once; running it again changes nothing."""
    users: list[User] = []
    for demo in DEMO_USERS:
        user = User.objects.filter(email__iexact=demo.email).first()
        if user is None:
            user = User.objects.create_user(
                email=demo.email,
                handle=demo.handle,
                password=DEMO_PASSWORD,
                is_staff=demo.is_staff,
                is_superuser=demo.is_staff,
            )
            EmailAddress.objects.create(user=user, email=demo.email, verified=True, primary=True)
            if demo.is_staff:
                TOTP.activate(user, DEMO_STAFF_TOTP_SECRET)
        Profile.objects.update_or_create(
            user=user,
            defaults={
                "display_name": demo.display_name,
                "bio": demo.bio,
                "is_private": demo.handle == "carol",
            },
        )
        users.append(user)
    return users
