"""A profile's counts leave deactivated people out without reading every user's row."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from social.feeds.profile import profile_header_get
from social.selectors.discovery import profile_counts_get, profile_counts_sql
from social.tests.factories import make_follow, make_post, make_user

pytestmark = pytest.mark.django_db


def test_deactivated_followers_and_followed_people_are_not_counted():
    owner, viewer = make_user(), make_user()
    fans = [make_user() for _ in range(3)]
    idols = [make_user() for _ in range(2)]
    for fan in fans:
        make_follow(fan, owner)
    for idol in idols:
        make_follow(owner, idol)
    make_post(owner)
    fans[0].is_active = idols[0].is_active = False
    fans[0].save(update_fields=["is_active"])
    idols[0].save(update_fields=["is_active"])

    expected = {"followers": 2, "following": 1, "posts": 1}
    assert profile_counts_get(owner=owner) == expected
    assert profile_header_get(viewer=viewer, owner=owner).counts == expected


def test_the_counts_probe_the_inactive_ids_index_not_the_users_table():
    """With sequential scans priced out, a count still joined to ``accounts_user`` would show its
    primary key being read; the counts only ever look at the partial index of inactive ids."""
    owner = make_user()
    make_follow(make_user(), owner)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT {profile_counts_sql('%(o)s')}", {"o": owner.pk})  # noqa: S608 - our SQL
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "accounts_user_inactive_ids" in plan, plan
    assert "accounts_user_pkey" not in plan, plan
