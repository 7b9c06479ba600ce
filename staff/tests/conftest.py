"""Staff test users: each has a TOTP authenticator (the factory gives staff one, with
``STAFF_TOTP_SECRET``), as staff must before the admin opens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from accounts.tests.factories import STAFF_TOTP_SECRET, StaffUserFactory

TOTP_SECRET = STAFF_TOTP_SECRET


def staff_member(*perms: str, superuser: bool = False, **fields: Any) -> User:
    """A staff member with two-factor on and the given ``app_label.codename`` permissions."""
    staff = StaffUserFactory(is_superuser=superuser, **fields)
    for perm in perms:
        app_label, codename = perm.split(".")
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return staff


@pytest.fixture
def staff_client(db) -> Callable[..., tuple[Client, User]]:
    def make(*perms: str, superuser: bool = False, **fields: Any) -> tuple[Client, User]:
        staff = staff_member(*perms, superuser=superuser, **fields)
        client = Client()
        client.force_login(staff)
        return client, staff

    return make
