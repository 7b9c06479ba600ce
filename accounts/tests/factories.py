"""Factories for users. A user built here is verified and has a profile, as after sign-up."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from accounts.models import Profile, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


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


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True
