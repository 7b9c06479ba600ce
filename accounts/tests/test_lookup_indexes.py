"""Handle and e-mail lookups are served by an index, whatever the number of users.

Every profile page, mention, sign-in and sign-up looks a user up case-insensitively
(``handle__iexact``, ``email__iexact``), which Django writes as ``UPPER(column) = UPPER(%s)`` on
PostgreSQL. An index on ``LOWER(column)`` cannot serve that: at 110,000 users each lookup was a
139 ms scan of the table. With sequential scans switched off for the planner, a lookup that no
index can serve still plans a ``Seq Scan``, so these fail whenever the index and the lookup's
expression disagree.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _plan(queryset: QuerySet) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: User.objects.filter(handle__iexact="Someone"), "accounts_user_handle_ci_unique"),
        (lambda: User.objects.filter(email__iexact="Someone@Example.com"), "accounts_user_email_ci_unique"),
        (
            lambda: EmailAddress.objects.filter(email__iexact="Someone@Example.com"),
            "account_emailaddress_email_upper",
        ),
    ],
    ids=["user handle", "user e-mail", "allauth e-mail address"],
)
def test_case_insensitive_lookup_uses_its_index(queryset, index: str) -> None:
    UserFactory.create_batch(3)
    plan = _plan(queryset())
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan


def test_handles_stay_unique_whatever_their_case() -> None:
    UserFactory(handle="someone")
    user = User(email="other@example.com", handle="SomeOne")
    with pytest.raises(Exception, match="handle already exists"):
        user.validate_constraints()
