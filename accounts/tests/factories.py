"""Factories for users. A user built here is verified and has a profile, as after sign-up; a
staff user also has an authenticator app (the admin opens only with two-factor authentication).
"""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP

from accounts.models import Profile, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"
# The authenticator-app secret of factory staff (base32), for tests that sign in with a code.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    handle = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def verified(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if not create:
            return
        Profile.objects.get_or_create(user=obj)
        if extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)

    @factory.post_generation
    def two_factor(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        """An authenticator app for staff by default; ``two_factor=True/False`` decides for anyone."""
        if create and (obj.is_staff if extracted is None else extracted):
            TOTP.activate(obj, STAFF_TOTP_SECRET)


class StaffUserFactory(UserFactory):
    """A superuser with two-factor authentication (``two_factor=False`` for one without)."""

    is_staff = True
    is_superuser = True


def staff_member(*roles: str, **fields: Any) -> User:
    """A staff member (not a superuser) in the given role groups (``"Support"``, ``"Moderation"``,
    ``"Billing"``), with two-factor authentication; ``permissions=[...]`` adds single ones."""
    from django.contrib.auth.models import Group, Permission

    permissions = fields.pop("permissions", [])
    member = UserFactory(is_staff=True, **fields)
    member.groups.add(*Group.objects.filter(name__in=roles))
    for perm in permissions:
        app_label, codename = perm.split(".")
        member.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return member
