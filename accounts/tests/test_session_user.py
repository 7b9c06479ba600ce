"""The session's user (accounts.session_auth, loaded with a precompiled query) keeps Django's
rules: every request reads the row afresh, so a deactivation, a password change or an ended
session takes effect on the very next request, by page and by API."""

from __future__ import annotations

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.session_auth import user_by_pk
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/settings/security/"
API = "/api/v1/notifications/unread-count/"


def _page_signed_in(client: Client) -> bool:
    response = client.get(PAGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _api_signed_in(client: Client) -> bool:
    response = client.get(API)
    assert response.status_code in (200, 401, 403)
    return response.status_code == 200


@pytest.fixture
def signed_in(user) -> tuple[Client, APIClient]:
    page, api = Client(), APIClient()
    page.force_login(user)
    api.force_login(user)
    assert _page_signed_in(page) and _api_signed_in(api)
    return page, api


def test_a_deactivated_user_is_refused_on_the_next_page_and_api_request(signed_in, user):
    page, api = signed_in
    # As a staff action or a script would: an UPDATE that no signal or cache sees.
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _page_signed_in(page)
    assert not _api_signed_in(api)
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert _api_signed_in(api)  # the session itself was kept, as Django keeps it


def test_an_ended_session_is_anonymous_on_the_next_request(signed_in):
    page, api = signed_in
    page.session.delete()
    api.session.delete()
    assert not _page_signed_in(page)
    assert not _api_signed_in(api)


def test_a_password_changed_elsewhere_ends_the_session_and_flushes_it(signed_in, user):
    page, api = signed_in
    User.objects.filter(pk=user.pk).update(password=make_password("another-password-123"))
    assert not _api_signed_in(api)
    assert not _page_signed_in(page)
    assert HASH_SESSION_KEY not in page.session  # flushed, as Django does


def test_a_deleted_user_is_anonymous(signed_in, user):
    page, api = signed_in
    User.objects.filter(pk=user.pk).delete()
    assert not _page_signed_in(page)
    assert not _api_signed_in(api)


def test_a_session_of_the_previous_secret_key_still_signs_in_and_is_rotated(settings, user):
    client = APIClient()
    client.force_login(user)
    old_key = client.session.session_key
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "n" * 50
    assert _api_signed_in(client)
    assert client.session.session_key != old_key  # Django's rule: the session key is cycled
    assert client.session[HASH_SESSION_KEY] == User.objects.get(pk=user.pk).get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = []
    assert _api_signed_in(client)


def test_a_session_forged_for_another_users_id_is_anonymous_and_flushed(user, other_user):
    client = APIClient()
    client.force_login(user)
    session = client.session
    session["_auth_user_id"] = str(other_user.pk)  # the hash is still the first user's
    session.save()
    assert not _api_signed_in(client)


def test_the_user_row_is_the_orms_and_costs_one_query(django_assert_num_queries):
    user = UserFactory(is_staff=True)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    loaded = user_by_pk(user.pk)
    expected = User.objects.get(pk=user.pk)
    assert loaded is not None
    assert {f.attname: getattr(loaded, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in User._meta.concrete_fields
    }
    assert loaded._state.db == "default" and not loaded._state.adding
    assert user_by_pk(10**12) is None
    with django_assert_num_queries(1):
        user_by_pk(user.pk)
