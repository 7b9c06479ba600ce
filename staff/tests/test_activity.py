"""The dashboard's active users: marked once a day per user, remembered per server process."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.tests.factories import UserFactory
from staff.middleware import ActivityMiddleware
from staff.models import UserActiveDay
from staff.services import today

pytestmark = pytest.mark.django_db


def test_a_users_later_requests_that_day_cost_no_cache_call_and_a_new_day_marks_again(settings):
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert client.get("/explore/").status_code == 200
    assert UserActiveDay.objects.filter(user=user).count() == 1
    # The process remembers it marked the user today: the next request does not even ask the
    # cache (its day key, once gone, is not written again).
    cache.clear()
    assert client.get("/explore/").status_code == 200
    assert cache.get(f"staff:active:{today().isoformat()}:{user.pk}") is None
    assert UserActiveDay.objects.filter(user=user).count() == 1

    middleware = ActivityMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/")
    request.user = user
    request.session = client.session
    middleware(request)
    assert UserActiveDay.objects.filter(user=user).count() == 1  # the cache key of today
    middleware._marked[user.pk] = date(2000, 1, 1)  # as if last marked on an earlier day
    cache.clear()
    middleware(request)
    assert UserActiveDay.objects.filter(user=user).count() == 1  # same day: the row exists
    assert middleware._marked[user.pk] != date(2000, 1, 1)


def test_it_remembers_a_bounded_number_of_users():
    middleware = ActivityMiddleware(lambda request: HttpResponse())
    middleware.REMEMBERED = 2
    users = [UserFactory() for _ in range(3)]
    for user in users:
        request = RequestFactory().get("/")
        request.user = user
        request.session = Client().session
        middleware(request)
    assert list(middleware._marked) == [users[1].pk, users[2].pk]
    assert UserActiveDay.objects.filter(user__in=users).count() == 3
