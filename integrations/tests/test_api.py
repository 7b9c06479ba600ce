"""The /api/v1/api-keys/ endpoints: session only, the full key shown once, nothing leaks."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from accounts.tests.factories import StaffUserFactory
from integrations import keys
from integrations.models import ApiKey
from integrations.tests.conftest import reauthenticate_api
from integrations.tests.factories import bearer, issue_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys/"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    return body["error"]


def create(client: APIClient, **data):
    payload = {"name": "Backup", "scopes": ["posts:read"], **data}
    return client.post(URL, payload, format="json")


def test_create_returns_the_full_key_once(reauthed_api_client, user):
    response = create(reauthed_api_client, scopes=["posts:read", "profile:read"], expires_in_days=30)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    token = body["key"]
    assert token.startswith("relay_test_")
    assert keys.parse_token(token).public_id == body["id"]
    assert body["scopes"] == ["profile:read", "posts:read"]
    assert body["status"] == "active"
    assert body["prefix"] == f"relay_test_{body['id']}_…"
    key = ApiKey.objects.get(public_id=body["id"])
    assert key.user == user
    assert (key.expires_at - key.created_at).days == 30
    # Never again: not in the list, not in the detail.
    listed = reauthed_api_client.get(URL).content.decode()
    detail = reauthed_api_client.get(f"{URL}{body['id']}/").content.decode()
    assert token not in listed and token not in detail
    assert key.secret_hash not in listed and key.secret_hash not in detail
    assert "key" not in reauthed_api_client.get(f"{URL}{body['id']}/").json()
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.API_KEY_CREATED)
    assert event.detail == {"key": body["id"], "name": "Backup", "scopes": ["profile:read", "posts:read"]}
    assert token not in str(event.detail)


def test_creating_or_rotating_a_key_needs_a_recent_reauthentication(user_api_client, user):
    # A session alone (say, a stolen cookie) cannot mint a key.
    error = error_of(create(user_api_client), 403)
    assert error["code"] == "reauthentication_required"
    assert not ApiKey.objects.exists()
    old = issue_key(user).api_key
    error = error_of(
        user_api_client.post(f"{URL}{old.public_id}/rotate/", {"grace_hours": 1}, format="json"), 403
    )
    assert error["code"] == "reauthentication_required"
    old.refresh_from_db()
    assert old.grace_expires_at is None and ApiKey.objects.count() == 1
    # Listing and revoking need no password.
    assert user_api_client.get(URL).status_code == 200
    assert user_api_client.post(f"{URL}{old.public_id}/revoke/").status_code == 200
    # After the headless re-authentication the same session may.
    reauthenticate_api(user_api_client)
    assert create(user_api_client).status_code == 201


def test_the_owner_gets_an_email_when_a_key_is_created_or_rotated(
    reauthed_api_client, user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = create(reauthed_api_client, name="Backup").json()
    [message] = [m for m in mailoutbox if user.email in m.to]
    assert "Backup" in message.subject
    assert body["prefix"] in message.body and "/settings/api-keys/" in message.body
    assert body["key"] not in message.body  # the secret itself never leaves in an e-mail
    with django_capture_on_commit_callbacks(execute=True):
        rotated = reauthed_api_client.post(f"{URL}{body['id']}/rotate/", {"grace_hours": 1}, format="json")
    assert rotated.status_code == 201
    assert len([m for m in mailoutbox if user.email in m.to]) == 2
    assert "replacing" in mailoutbox[-1].body


def test_the_default_expiry_is_90_days(reauthed_api_client):
    body = create(reauthed_api_client).json()
    key = ApiKey.objects.get(public_id=body["id"])
    assert (key.expires_at - key.created_at).days == 90


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scopes": ["posts:read", "posts:delete"]}, "scopes.1"),
        ({"scopes": []}, "scopes"),
        ({"scopes": "posts:read"}, "scopes"),
        ({"expires_in_days": 366}, "expires_in_days"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_input_at_creation_is_400_naming_the_field(reauthed_api_client, data, field):
    error = error_of(create(reauthed_api_client, **data), 400)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert not ApiKey.objects.exists()


def test_the_admin_scope_is_refused_to_non_staff(reauthed_api_client):
    error = error_of(create(reauthed_api_client, scopes=["admin"]), 400)
    assert error["fields"] == {"scopes": ["Only staff can give a key the admin scope."]}
    assert not ApiKey.objects.exists()


def test_staff_may_create_an_admin_key():
    client = APIClient()
    client.force_login(StaffUserFactory())
    reauthenticate_api(client)
    assert create(client, scopes=["admin"]).status_code == 201


def test_the_plan_limits_the_number_of_active_keys(reauthed_api_client, user):
    from billing.entitlements import entitlements_get_for_user

    limit = entitlements_get_for_user(user=user).max_api_keys
    for n in range(limit):
        assert create(reauthed_api_client, name=f"Key {n}").status_code == 201
    error = error_of(create(reauthed_api_client, name="One too many"), 409)
    assert error["code"] == "api_key_limit_reached"
    assert error["limit"] == limit
    # Revoking one frees its slot.
    first = ApiKey.objects.filter(user=user).first()
    assert reauthed_api_client.post(f"{URL}{first.public_id}/revoke/").status_code == 200
    assert create(reauthed_api_client, name="Replacement").status_code == 201


def test_list_shows_only_my_keys_newest_first(reauthed_api_client, user, other_user):
    issue_key(other_user, name="Theirs")
    issue_key(user, name="Older")
    issue_key(user, name="Newer")
    body = reauthed_api_client.get(URL).json()
    assert [k["name"] for k in body["results"]] == ["Newer", "Older"]


def test_list_query_count_does_not_grow(reauthed_api_client, user, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    issue_key(user, name="One")
    reauthed_api_client.get(URL)  # warm the session cache
    with CaptureQueriesContext(connection) as one:
        assert len(reauthed_api_client.get(URL).json()["results"]) == 1
    assert sum("integrations_apikey" in q["sql"] for q in one.captured_queries) == 1
    for n in range(5):
        issued = issue_key(user, name=f"Key {n}")
        issued.api_key.revoked_at = issued.api_key.created_at
        issued.api_key.save(update_fields=["revoked_at"])
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(reauthed_api_client.get(URL).json()["results"]) == 6


def test_another_users_key_is_404_everywhere(reauthed_api_client, other_user):
    theirs = issue_key(other_user).api_key
    for method, path in [
        ("get", f"{URL}{theirs.public_id}/"),
        ("post", f"{URL}{theirs.public_id}/rotate/"),
        ("post", f"{URL}{theirs.public_id}/revoke/"),
    ]:
        response = getattr(reauthed_api_client, method)(path, {}, format="json")
        assert error_of(response, 404)["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.is_usable and theirs.grace_expires_at is None


def test_rotate_issues_a_new_key_and_keeps_the_old_one_for_the_grace_period(reauthed_api_client, user):
    old = issue_key(user, scopes=["posts:read", "follows:read"], name="CI").api_key
    response = reauthed_api_client.post(f"{URL}{old.public_id}/rotate/", {"grace_hours": 6}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "CI"
    assert body["scopes"] == ["posts:read", "follows:read"]
    assert body["rotated_from"] == old.public_id
    assert body["key"].startswith("relay_test_")
    old.refresh_from_db()
    assert old.status == ApiKey.Status.ROTATING
    assert (
        round((old.grace_expires_at - ApiKey.objects.get(public_id=body["id"]).created_at).total_seconds())
        == 6 * 3600
    )
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_ROTATED).count() == 1
    # A key being rotated away cannot be rotated again.
    again = reauthed_api_client.post(f"{URL}{old.public_id}/rotate/", {"grace_hours": 1}, format="json")
    assert error_of(again, 409)["code"] == "conflict"


@pytest.mark.parametrize("grace", [25, -1, "later"])
def test_rotate_refuses_a_grace_period_outside_0_to_24_hours(reauthed_api_client, user, grace):
    old = issue_key(user).api_key
    response = reauthed_api_client.post(
        f"{URL}{old.public_id}/rotate/", {"grace_hours": grace}, format="json"
    )
    assert "grace_hours" in error_of(response, 400)["fields"]
    old.refresh_from_db()
    assert old.grace_expires_at is None


def test_revoke_is_idempotent_and_has_one_route(reauthed_api_client, user):
    key = issue_key(user, name="A").api_key
    response = reauthed_api_client.post(f"{URL}{key.public_id}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert reauthed_api_client.post(f"{URL}{key.public_id}/revoke/").status_code == 200
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.API_KEY_REVOKED).count() == 1
    assert not ApiKey.objects.get(pk=key.pk).is_usable
    # One endpoint per operation: DELETE on the key is not a second way to revoke it.
    other = issue_key(user, name="B").api_key
    assert (
        error_of(reauthed_api_client.delete(f"{URL}{other.public_id}/"), 405)["code"] == "method_not_allowed"
    )
    assert ApiKey.objects.get(pk=other.pk).is_usable


def test_a_malformed_key_id_is_a_clear_4xx_not_500(reauthed_api_client):
    # A NUL never reaches a view (config.guards: 400); any other id no key can have is 404.
    for path in (f"{URL}%00/", f"{URL}%00/revoke/"):
        assert error_of(reauthed_api_client.post(path, {}, format="json"), 400)["code"], path
    assert reauthed_api_client.post(f"{URL}ab-cd/rotate/", {}, format="json").status_code == 404


def test_rotating_a_revoked_key_is_409(reauthed_api_client, user):
    key = issue_key(user).api_key
    reauthed_api_client.post(f"{URL}{key.public_id}/revoke/")
    response = reauthed_api_client.post(f"{URL}{key.public_id}/rotate/", {"grace_hours": 1}, format="json")
    assert error_of(response, 409)["code"] == "conflict"


def test_no_key_can_manage_keys(api_client, user):
    from config.scopes import SCOPES

    staff = StaffUserFactory()
    token = issue_key(staff, scopes=list(SCOPES)).token
    mine = issue_key(staff, name="Target").api_key
    for method, path in [
        ("get", URL),
        ("post", URL),
        ("get", f"{URL}{mine.public_id}/"),
        ("post", f"{URL}{mine.public_id}/rotate/"),
        ("post", f"{URL}{mine.public_id}/revoke/"),
    ]:
        response = getattr(api_client, method)(path, {}, format="json", **bearer(token))
        assert error_of(response, 403)["code"] == "scope_not_allowed", (method, path)
    assert ApiKey.objects.filter(user=staff).count() == 2
    assert ApiKey.objects.get(pk=mine.pk).is_usable


def test_anonymous_is_401(api_client):
    assert error_of(api_client.get(URL), 401)["code"] == "not_authenticated"
    assert error_of(api_client.post(URL, {}, format="json"), 401)["code"] == "not_authenticated"


def test_session_writes_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(URL, {"name": "x", "scopes": ["posts:read"]}, format="json")
    assert error_of(response, 403)["code"] == "permission_denied"
    assert not ApiKey.objects.exists()
