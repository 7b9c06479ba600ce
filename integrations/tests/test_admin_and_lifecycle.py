"""Admin (keys per user, revoke action, never the secret) and account export/deletion."""

from __future__ import annotations

import pytest

from accounts.lifecycle import erasers, exporters
from accounts.models import SecurityEvent
from accounts.tests.factories import StaffUserFactory
from integrations.models import ApiKey, ApiKeyAddress
from integrations.tests.factories import bearer, issue_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    staff = StaffUserFactory()
    client.force_login(staff)
    client.staff = staff
    return client


def test_the_admin_lists_keys_without_secret_or_hash(admin_client, user):
    issued = issue_key(user, name="Exporter")
    changelist = admin_client.get("/admin/integrations/apikey/", {"q": user.handle}).content.decode()
    detail = admin_client.get(f"/admin/integrations/apikey/{issued.api_key.pk}/change/").content.decode()
    for html in (changelist, detail):
        assert "Exporter" in html
        assert issued.token not in html
        assert issued.api_key.secret_hash not in html
    assert admin_client.get("/admin/integrations/apikey/add/").status_code == 403


def test_the_admin_revoke_action_stops_keys(admin_client, user, api_client):
    issued = issue_key(user, scopes=["profile:read"])
    response = admin_client.post(
        "/admin/integrations/apikey/",
        {"action": "revoke_keys", "_selected_action": [issued.api_key.pk], "reason": "leaked on GitHub"},
        follow=True,
    )
    assert "Revoked API keys: 1." in response.content.decode()
    assert ApiKey.objects.get(pk=issued.api_key.pk).status == ApiKey.Status.REVOKED
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.API_KEY_REVOKED)
    assert event.detail["by"] == admin_client.staff.handle
    assert api_client.get("/api/v1/me/", **bearer(issued.token)).status_code == 401


def test_the_export_lists_key_metadata_and_nothing_that_rebuilds_a_key(user):
    issued = issue_key(user, name="Backup", scopes=["posts:read"])
    ApiKeyAddress.objects.create(api_key=issued.api_key, ip_address="10.1.2.3")
    exported = exporters()["api_keys"](user=user)
    assert exported[0]["id"] == issued.api_key.public_id
    assert exported[0]["name"] == "Backup"
    assert exported[0]["scopes"] == ["posts:read"]
    assert exported[0]["addresses"] == ["10.1.2.3"]
    text = str(exported)
    assert issued.token not in text and issued.api_key.secret_hash not in text


def test_the_eraser_removes_every_key(user, other_user, api_client):
    issued = issue_key(user)
    issue_key(other_user)
    erasers()["api_keys"](user=user)
    assert not ApiKey.objects.filter(user=user).exists()
    assert ApiKey.objects.filter(user=other_user).count() == 1
    assert api_client.get("/api/v1/me/", **bearer(issued.token)).status_code == 401


def test_demo_seed_makes_one_key_for_alice_once():
    import io

    from accounts.tests.factories import UserFactory
    from integrations.demo import seed

    alice = UserFactory(handle="alice")
    out = io.StringIO()
    seed(users=[alice], stdout=out)
    seed(users=[alice], stdout=out)
    assert ApiKey.objects.filter(user=alice).count() == 1
    assert out.getvalue().count("relay_test_") == 2  # the key and the curl line, printed once


def test_revoking_keys_needs_the_revoke_permission(user):
    from django.test import Client

    from accounts.tests.factories import staff_member
    from audit.models import AuditEntry

    issued = issue_key(user, scopes=["profile:read"])
    viewer = Client()
    viewer.force_login(staff_member(permissions=["integrations.view_apikey"]))
    assert viewer.get("/admin/integrations/apikey/").status_code == 200
    viewer.post(
        "/admin/integrations/apikey/",
        {"action": "revoke_keys", "_selected_action": [issued.api_key.pk], "reason": "x"},
    )
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is None

    support = Client()
    support.force_login(staff_member("Support"))
    support.post(
        "/admin/integrations/apikey/",
        {"action": "revoke_keys", "_selected_action": [issued.api_key.pk], "reason": "leaked"},
    )
    assert ApiKey.objects.get(pk=issued.api_key.pk).revoked_at is not None
    assert AuditEntry.objects.get(action="api_key.revoke").reason == "leaked"


def test_the_user_list_revokes_all_keys_of_a_user_and_emails_them(user, api_client):
    from django.test import Client

    from accounts.tests.factories import staff_member
    from audit.models import AuditEntry
    from outbox.models import OutboundEmail

    first, second = issue_key(user, name="one"), issue_key(user, name="two")
    moderator = Client()
    moderator.force_login(staff_member("Moderation"))
    assert "revoke_all_api_keys" not in moderator.get("/admin/accounts/user/").content.decode()
    moderator.post(
        "/admin/accounts/user/",
        {"action": "revoke_all_api_keys", "_selected_action": [user.pk], "reason": "x"},
    )
    assert api_client.get("/api/v1/me/", **bearer(first.token)).status_code == 200

    support = Client()
    support.force_login(staff_member("Support"))
    response = support.post(
        "/admin/accounts/user/",
        {"action": "revoke_all_api_keys", "_selected_action": [user.pk], "reason": "account compromised"},
        follow=True,
    )
    assert "API keys revoked for users: 1." in response.content.decode()
    for issued in (first, second):
        assert api_client.get("/api/v1/me/", **bearer(issued.token)).status_code == 401
    entry = AuditEntry.objects.get(action="user.api_keys_revoke_all")
    assert entry.target_user == user and entry.details == {"keys": 2}
    assert OutboundEmail.objects.filter(to=[user.email], subject__contains="API keys were revoked").exists()
