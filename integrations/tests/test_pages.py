"""The /settings/api-keys/ page: create (key shown once), rotate, revoke, form errors."""

from __future__ import annotations

import re

import pytest

from accounts.tests.factories import StaffUserFactory
from integrations.models import ApiKey
from integrations.tests.factories import issue_key

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-keys/"


def test_the_page_needs_a_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_lists_my_keys_and_never_a_secret(signed_in, user, other_user):
    mine = issue_key(user, name="My script")
    theirs = issue_key(other_user, name="Their script")
    html = signed_in.get(PAGE).content.decode()
    assert "My script" in html and mine.api_key.display_prefix in html
    assert "Their script" not in html
    assert mine.token not in html and mine.api_key.secret_hash not in html
    assert theirs.api_key.public_id not in html


def test_non_staff_are_not_offered_the_admin_scope(signed_in):
    html = signed_in.get(PAGE).content.decode()
    assert 'value="posts:read"' in html
    assert 'value="admin"' not in html


def test_staff_are_offered_the_admin_scope(client):
    client.force_login(StaffUserFactory())
    assert 'value="admin"' in client.get(PAGE).content.decode()


def test_creating_a_key_shows_it_once_with_a_copy_button(signed_in, user):
    response = signed_in.post(PAGE, {"name": "Backup", "scopes": ["posts:read"], "expires_in_days": "30"})
    # Post/redirect/get: the POST answers a redirect, so a reload cannot post the form again.
    assert (response.status_code, response["Location"]) == (302, PAGE)
    shown = signed_in.get(PAGE)
    assert "no-store" in shown["Cache-Control"]
    html = shown.content.decode()
    token = re.search(r'value="(relay_test_[0-9A-Za-z_]+)"', html).group(1)
    assert 'data-copy="#new-api-key"' in html
    key = ApiKey.objects.get(user=user)
    assert key.name == "Backup" and key.scopes == ["posts:read"]
    # Reloading the page shows the key no more, and makes no second key.
    reloaded = signed_in.get(PAGE)
    assert token not in reloaded.content.decode()
    assert "no-store" in reloaded["Cache-Control"]
    assert ApiKey.objects.filter(user=user).count() == 1


def test_the_new_key_never_sits_in_the_session_store_in_clear(signed_in, user):
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    signed_in.post(PAGE, {"name": "Backup", "scopes": ["posts:read"], "expires_in_days": "30"})
    session_key = signed_in.cookies["sessionid"].value
    # The session as PostgreSQL and the Redis cache hold it between the POST and the GET.
    stored = Session.objects.get(session_key=session_key).get_decoded()
    cached = cache.get(f"django.contrib.sessions.cached_db{session_key}")
    html = signed_in.get(PAGE).content.decode()
    token = re.search(r'value="(relay_test_[0-9A-Za-z_]+)"', html).group(1)
    assert token not in repr(stored) and token not in repr(cached)
    assert "integrations:new-api-key" in stored


def test_a_sealed_key_opens_only_for_its_purpose_and_within_its_age():
    from config.sealing import seal, unseal

    sealed = seal("relay_test_secret", purpose="integrations.new-api-key")
    assert unseal(sealed, purpose="integrations.new-api-key", max_age=60) == "relay_test_secret"
    assert unseal(sealed, purpose="something.else", max_age=60) is None
    assert unseal(sealed[:-4] + "AAAA", purpose="integrations.new-api-key", max_age=60) is None
    assert unseal(None, purpose="integrations.new-api-key", max_age=60) is None


def test_creating_a_key_asks_for_the_password_first_and_then_creates_it(client, user, mailoutbox):
    from accounts.tests.factories import DEFAULT_PASSWORD

    client.force_login(user)
    data = {"name": "Backup", "scopes": ["posts:read"], "expires_in_days": "30"}
    response = client.post(PAGE, data)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not ApiKey.objects.exists()
    # allauth replays the kept POST once the password is confirmed.
    response = client.post(response["Location"], {"password": DEFAULT_PASSWORD}, follow=True)
    assert ApiKey.objects.filter(user=user, name="Backup").count() == 1
    assert re.search(r'value="(relay_test_[0-9A-Za-z_]+)"', response.content.decode())


def test_rotating_asks_for_the_password_first(client, user):
    client.force_login(user)
    old = issue_key(user, name="CI").api_key
    response = client.post(f"{PAGE}{old.public_id}/rotate/", {"grace_hours": "6"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    old.refresh_from_db()
    assert old.status == ApiKey.Status.ACTIVE
    assert ApiKey.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["posts:read"], "expires_in_days": "90"}, "This field is required."),
        (
            {"name": "x", "scopes": ["posts:delete"], "expires_in_days": "90"},
            "is not one of the available choices",
        ),
        ({"name": "x", "scopes": ["admin"], "expires_in_days": "90"}, "is not one of the available choices"),
        (
            {"name": "x", "scopes": ["posts:read"], "expires_in_days": "400"},
            "is not one of the available choices",
        ),
    ],
)
def test_bad_input_shows_form_errors(signed_in, data, message):
    response = signed_in.post(PAGE, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_plan_limit_shows_as_a_form_error(signed_in, user):
    from billing.entitlements import entitlements_get_for_user

    for n in range(entitlements_get_for_user(user=user).max_api_keys):
        issue_key(user, name=f"Key {n}")
    response = signed_in.post(PAGE, {"name": "More", "scopes": ["posts:read"], "expires_in_days": "90"})
    assert response.status_code == 409
    assert "Your plan allows" in response.content.decode()


def test_rotating_shows_the_new_key_and_keeps_the_old_for_the_grace(signed_in, user):
    old = issue_key(user, name="CI").api_key
    response = signed_in.post(f"{PAGE}{old.public_id}/rotate/", {"grace_hours": "6"})
    assert (response.status_code, response["Location"]) == (302, PAGE)
    assert "replaces" in signed_in.get(PAGE).content.decode()
    old.refresh_from_db()
    assert old.status == ApiKey.Status.ROTATING
    assert ApiKey.objects.filter(user=user, rotated_from=old).count() == 1


def test_rotating_with_a_bad_grace_period_changes_nothing(signed_in, user):
    old = issue_key(user).api_key
    response = signed_in.post(f"{PAGE}{old.public_id}/rotate/", {"grace_hours": "48"}, follow=True)
    assert "0 to 24 hours" in response.content.decode()
    old.refresh_from_db()
    assert old.grace_expires_at is None


def test_revoking_from_the_page(signed_in, user):
    key = issue_key(user, name="Old script").api_key
    response = signed_in.post(f"{PAGE}{key.public_id}/revoke/", follow=True)
    assert "was revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.status == ApiKey.Status.REVOKED


def test_another_users_key_is_404_on_the_page(signed_in, other_user):
    theirs = issue_key(other_user).api_key
    assert signed_in.post(f"{PAGE}{theirs.public_id}/revoke/").status_code == 404
    assert signed_in.post(f"{PAGE}{theirs.public_id}/rotate/", {"grace_hours": "0"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_usable and theirs.grace_expires_at is None


def test_revoke_and_rotate_need_post(signed_in, user):
    key = issue_key(user).api_key
    assert signed_in.get(f"{PAGE}{key.public_id}/revoke/").status_code == 405
