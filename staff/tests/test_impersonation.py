"""Impersonation for support: who may, with a reason, a banner and an exit, a time limit, what
the session may not do as the user, and what the user and the audit log see."""

from __future__ import annotations

import pytest

from accounts.models import SecurityEvent
from accounts.tests.factories import UserFactory
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

REASON = "Ticket 4121: the user cannot see their bookmarks"


def start(client, target, reason=REASON):
    return client.post(f"/admin/staff/user/{target.pk}/impersonate/", {"reason": reason})


@pytest.fixture
def support(staff_client):
    return staff_client("staff.impersonate_user", "accounts.view_user")


def whoami(client) -> int:
    return int(client.session["_auth_user_id"])


def test_a_reason_is_asked_first_and_only_a_post_starts(support):
    client, staff = support
    target = UserFactory()

    form = client.get(f"/admin/staff/user/{target.pk}/impersonate/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    assert whoami(client) == staff.pk

    too_short = start(client, target, reason="x")
    assert too_short.status_code == 400 and "at least 10 characters" in too_short.content.decode()
    assert whoami(client) == staff.pk
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.IMPERSONATION).exists()


def test_support_sees_the_product_as_the_user_with_a_banner_and_everything_is_recorded(support):
    client, staff = support
    target = UserFactory(handle="helped")
    last_login = target.last_login

    response = start(client, target)

    assert response.status_code == 302 and response["Location"] == "/"
    assert whoami(client) == target.pk
    home = client.get("/").content.decode()
    assert "you are signed in as <strong>@helped</strong>" in home and "Stop impersonating" in home
    entry = AuditEntry.objects.get(action="impersonation.start")
    assert (entry.actor, entry.target_user, entry.reason) == (staff, target, REASON)
    event = SecurityEvent.objects.get(user=target, kind=SecurityEvent.Kind.SUPPORT_IMPERSONATION_STARTED)
    assert REASON not in str(event.detail)  # the reason is staff's note, not shown to the user
    target.refresh_from_db()
    assert target.last_login == last_login
    assert "Support staff signed in as you" in client.get("/settings/security/").content.decode()


def test_the_exit_button_returns_to_the_staff_member_on_the_users_page(support):
    client, staff = support
    target = UserFactory()
    start(client, target)

    assert client.get("/admin/staff/impersonation/stop/").status_code == 405
    response = client.post("/admin/staff/impersonation/stop/")

    assert (
        response.status_code == 302
        and response["Location"] == f"/admin/staff/useroverview/{target.pk}/change/"
    )
    assert whoami(client) == staff.pk
    assert "Stop impersonating" not in client.get("/").content.decode()
    stop = AuditEntry.objects.get(action="impersonation.stop")
    assert (stop.actor, stop.target_user, stop.reason) == (staff, target, REASON)
    assert SecurityEvent.objects.filter(
        user=target, kind=SecurityEvent.Kind.SUPPORT_IMPERSONATION_ENDED
    ).exists()


def test_it_ends_by_itself_after_the_time_limit(support, settings):
    settings.STAFF_IMPERSONATION_MINUTES = 0
    client, staff = support
    target = UserFactory()
    start(client, target)

    response = client.get("/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/staff/useroverview/")
    assert whoami(client) == staff.pk
    assert AuditEntry.objects.filter(action="impersonation.expire", target_user=target).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/accounts/password/change/"),
        ("get", "/accounts/email/"),
        ("post", "/accounts/2fa/totp/activate/"),
        ("post", "/settings/api-keys/"),
        ("post", "/billing/cancel/"),
        ("get", "/billing/portal/"),
        ("post", "/settings/account/delete/"),
    ],
)
def test_the_impersonated_session_cannot_change_security_keys_or_billing(support, method, path):
    client, _ = support
    start(client, UserFactory())

    response = getattr(client, method)(path)

    assert response.status_code == 403
    assert "Not while impersonating" in response.content.decode()


def test_the_api_refuses_the_same_with_its_error_shape(support):
    client, _ = support
    start(client, UserFactory())

    response = client.post(
        "/api/v1/api-keys/", {"name": "x", "scopes": ["posts:read"]}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "impersonation_forbidden"
    assert client.get("/settings/api-keys/").status_code == 200  # reading is fine


def test_refusals(staff_client):
    plain_staff, _ = staff_client("accounts.view_user")
    support, _ = staff_client("staff.impersonate_user")
    admin, _ = staff_client(superuser=True)
    user, superuser = UserFactory(), UserFactory(is_staff=True, is_superuser=True)
    colleague = UserFactory(is_staff=True)

    assert start(plain_staff, user).status_code == 403  # no permission
    assert start(support, superuser).status_code == 403  # a superuser, by a non-superuser
    assert start(support, colleague).status_code == 403  # another staff member
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.IMPERSONATION).exists()
    assert start(admin, colleague).status_code == 302  # a superuser may


def test_non_staff_cannot_even_open_the_form(client, user, other_user):
    client.force_login(user)
    response = client.post(f"/admin/staff/user/{other_user.pk}/impersonate/", {"reason": REASON})
    assert response.status_code in (302, 403)
    assert int(client.session["_auth_user_id"]) == user.pk


def test_activity_is_the_users_own_requests_once_a_day_never_supports(support, user):
    from django.test import Client

    from staff.models import UserActiveDay

    own = Client()
    own.force_login(user)
    own.get("/")
    own.get("/explore/")
    assert UserActiveDay.objects.filter(user=user).count() == 1

    client, _ = support
    target = UserFactory()
    start(client, target)
    client.get("/")
    assert not UserActiveDay.objects.filter(user=target).exists()
