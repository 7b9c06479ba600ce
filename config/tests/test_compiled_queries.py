"""config.compiled_queries: a queryset compiled once answers as the ORM does for other values,
``select_related`` rows included, and refuses what it cannot keep the meaning of."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from config.compiled_queries import CompiledQuery, PrecompiledQuery

pytestmark = pytest.mark.django_db


def _by_handle(handle: str):
    return (
        User.objects.select_related("profile")
        .filter(is_active=True, handle__iexact=handle)
        .order_by("pk")[:1]
    )


def test_a_compiled_query_returns_the_orms_rows_with_their_related_row_loaded(django_assert_num_queries):
    UserFactory(handle="someone_else")
    wanted = UserFactory(handle="Marta_K")
    wanted.profile.display_name = "Marta K."
    wanted.profile.save()
    compiled = CompiledQuery.compile(_by_handle, "placeholder")
    assert compiled is not None

    with django_assert_num_queries(1):
        found = compiled.first("marta_k")
        assert found.profile.display_name == "Marta K."  # loaded by the same query

    expected = _by_handle("marta_k").first()
    assert found == expected and found.profile == expected.profile
    assert [getattr(found, f.attname) for f in User._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in User._meta.concrete_fields
    ]
    assert found._state.adding is False and found._state.db == "default"
    assert found.profile.user is found


def test_each_call_reads_the_database_afresh():
    person = UserFactory(handle="leaving")
    compiled = CompiledQuery.compile(_by_handle, "placeholder")
    assert compiled.first("leaving") == person

    User.objects.filter(pk=person.pk).update(is_active=False)

    assert compiled.first("leaving") is None
    assert compiled.first("nobody_here") is None


def test_a_value_the_lookup_rewrites_is_refused_and_left_to_the_orm():
    # icontains sends "%value%": substituting another value there would change the query.
    assert CompiledQuery.compile(lambda h: User.objects.filter(handle__icontains=h), "placeholder") is None
    # values() rows are not model instances.
    assert CompiledQuery.compile(lambda pk: User.objects.filter(pk=pk).values("handle"), 0) is None


def test_a_precompiled_query_answers_through_the_orm_where_it_cannot_be_compiled(django_assert_num_queries):
    found = UserFactory(handle="searchable_one")
    UserFactory(handle="another_person")
    compiled = PrecompiledQuery(_by_handle, "placeholder")
    by_part = PrecompiledQuery(
        lambda h: User.objects.filter(handle__icontains=h).order_by("pk"), "placeholder"
    )

    with django_assert_num_queries(2):
        assert compiled.first("SEARCHABLE_ONE") == found
        assert by_part.first("chable_o") == found  # "%chable_o%": the ORM's query, not the compiled one
    assert by_part.first("nobody") is None
