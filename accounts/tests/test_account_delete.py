"""Account deletion: the settings page (with allauth re-authentication) and DELETE /api/v1/me."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.test import Client
from rest_framework.test import APIClient

from accounts import lifecycle
from accounts.models import Profile, SecurityEvent, User
from accounts.services import security_event_record
from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from accounts.tests.factories import DEFAULT_PASSWORD
from accounts.tests.image_factories import image_upload

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
DELETE_PAGE = "/settings/account/delete/"


def login(client: Client | APIClient, user: User) -> None:
    """Signs in through the real login form, so allauth records how the user authenticated."""
    data = {"login": user.email, "password": DEFAULT_PASSWORD}
    if isinstance(client, APIClient):
        response = client.post("/accounts/login/", data, format="multipart")
    else:
        response = client.post("/accounts/login/", data)
    assert response.status_code == 302, response.content


@pytest.fixture
def rich_user(user, django_capture_on_commit_callbacks):
    """A user with an avatar, a security log, a two-factor method and a second e-mail."""
    with django_capture_on_commit_callbacks(execute=True):
        profile_update(user=user, bio="to be erased", avatar=image_upload())
    security_event_record(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED)
    TOTP.activate(user, generate_totp_secret())
    EmailAddress.objects.create(user=user, email="second@example.com", verified=False, primary=False)
    return user


def assert_user_gone(user_id: int, avatar_names: list[str], storage) -> None:
    assert not User.objects.filter(pk=user_id).exists()
    assert not Profile.objects.filter(user_id=user_id).exists()
    assert not EmailAddress.objects.filter(user_id=user_id).exists()
    assert not SecurityEvent.objects.filter(user_id=user_id).exists()
    assert not Authenticator.objects.filter(user_id=user_id).exists()
    assert not UserSession.objects.filter(user_id=user_id).exists()
    assert all(not storage.exists(name) for name in avatar_names)


# --- Service ---------------------------------------------------------------------------------


def test_account_delete_removes_everything_and_only_that(
    rich_user, other_user, django_capture_on_commit_callbacks
):
    profile = Profile.objects.get(user=rich_user)
    names, storage = [profile.avatar.name, profile.avatar_small.name], profile.avatar.storage
    security_event_record(user=other_user, kind=SecurityEvent.Kind.LOGIN)
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(user=rich_user)
    assert_user_gone(rich_user.pk, names, storage)
    assert User.objects.filter(pk=other_user.pk).exists()
    assert Profile.objects.filter(user=other_user).exists()
    assert EmailAddress.objects.filter(user=other_user).exists()
    assert SecurityEvent.objects.filter(user=other_user).exists()


@pytest.fixture
def failing_eraser():
    """An app whose eraser fails: registered through the public lifecycle API, then removed."""

    def eraser(user: User) -> None:
        raise RuntimeError("the billing provider is down")

    lifecycle.register_eraser("zz_failing_test_app", eraser)
    yield
    lifecycle._erasers.pop("zz_failing_test_app", None)


def test_account_delete_is_all_or_nothing(rich_user, failing_eraser):
    with pytest.raises(RuntimeError):
        account_delete(user=rich_user)
    assert User.objects.filter(pk=rich_user.pk).exists()
    assert Profile.objects.get(user=rich_user).bio == "to be erased"
    assert EmailAddress.objects.filter(user=rich_user).count() == 2
    assert Authenticator.objects.filter(user=rich_user).exists()


def test_every_registered_eraser_runs_before_the_row_goes():
    seen: list[bool] = []

    def eraser(user: User) -> None:
        # Other apps still see the whole account (e-mail, profile) while they clean up.
        seen.append(
            Profile.objects.filter(user=user).exists() and EmailAddress.objects.filter(user=user).exists()
        )

    lifecycle.register_eraser("zz_probe_test_app", eraser)
    try:
        from accounts.tests.factories import UserFactory

        account_delete(user=UserFactory())
    finally:
        lifecycle._erasers.pop("zz_probe_test_app", None)
    assert seen == [True]


# --- Settings page ---------------------------------------------------------------------------


def test_account_page_shows_export_and_delete(user):
    client = Client()
    login(client, user)
    response = client.get("/settings/account/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Download my data" in html
    assert "Delete my account" in html


def test_page_delete_asks_for_reauthentication_then_deletes(rich_user, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(rich_user)  # signed in, but not recently authenticated with a password
    response = client.post(DELETE_PAGE, {"confirm_handle": rich_user.handle})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert User.objects.filter(pk=rich_user.pk).exists()

    # A wrong password does not get through.
    response = client.post(response["Location"], {"password": "not-my-password"})
    assert response.status_code == 200
    assert User.objects.filter(pk=rich_user.pk).exists()

    # The right one resumes the kept request, which deletes the account.
    profile = Profile.objects.get(user=rich_user)
    names, storage = [profile.avatar.name, profile.avatar_small.name], profile.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/accounts/reauthenticate/?next={DELETE_PAGE}", {"password": DEFAULT_PASSWORD}, follow=True
        )
    assert response.status_code == 200
    assert "Your account and all its data have been deleted." in response.content.decode()
    assert_user_gone(rich_user.pk, names, storage)
    assert not response.context["user"].is_authenticated


def test_page_delete_needs_the_handle_typed(user):
    client = Client()
    login(client, user)
    client.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD})
    response = client.post(DELETE_PAGE, {"confirm_handle": "someone_else"})
    assert response.status_code == 400
    assert "This is not your handle." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_page_delete_right_after_reauthentication(user):
    client = Client()
    login(client, user)
    assert client.post("/accounts/reauthenticate/", {"password": DEFAULT_PASSWORD}).status_code == 302
    response = client.post(DELETE_PAGE, {"confirm_handle": user.handle.upper()})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()


def test_page_delete_refuses_get_and_anonymous(user):
    client = Client()
    assert client.post(DELETE_PAGE, {"confirm_handle": user.handle}).status_code == 302
    login(client, user)
    assert client.get(DELETE_PAGE).status_code == 405
    assert User.objects.filter(pk=user.pk).exists()


# --- API -------------------------------------------------------------------------------------


def test_api_delete_with_password(rich_user, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_login(rich_user)  # rich_user has two-factor on; the password below is what counts
    profile = Profile.objects.get(user=rich_user)
    names, storage = [profile.avatar.name, profile.avatar_small.name], profile.avatar.storage
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204
    assert_user_gone(rich_user.pk, names, storage)
    # The session is over.
    assert client.get(ME).status_code == 401


def test_api_delete_without_reauthentication_is_refused(user, user_api_client):
    response = user_api_client.delete(ME, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert User.objects.filter(pk=user.pk).exists()


def test_api_delete_with_wrong_password_is_refused(user, user_api_client):
    response = user_api_client.delete(ME, {"password": "guess-guess-guess"}, format="json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "reauthentication_required"
    assert error["fields"] == {"password": ["The password is not correct."]}
    assert User.objects.filter(pk=user.pk).exists()


def test_api_delete_password_guessing_is_rate_limited(user, user_api_client):
    statuses = [
        user_api_client.delete(ME, {"password": f"guess-{i}-xxxxxx"}, format="json").status_code
        for i in range(7)
    ]
    assert statuses[0] == 403
    assert statuses[-1] == 429
    # Even the right password is refused while limited.
    response = user_api_client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert User.objects.filter(pk=user.pk).exists()


def test_api_delete_after_headless_reauthentication(user):
    client = APIClient()
    login(client, user)
    response = client.post(
        "/_allauth/browser/v1/auth/reauthenticate", {"password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    assert client.delete(ME, format="json").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_api_delete_anonymous(api_client, user):
    assert api_client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json").status_code == 401
    assert User.objects.filter(pk=user.pk).exists()


def test_api_keys_cannot_delete_the_account(user):
    from integrations.services import api_key_issue

    issued = api_key_issue(user=user, name="all", scopes=["profile:read", "profile:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.token}")
    assert client.get(ME).status_code == 200
    response = client.delete(ME, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_not_allowed"
    assert User.objects.filter(pk=user.pk).exists()
