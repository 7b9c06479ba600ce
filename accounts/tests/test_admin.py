"""The user admin: search, filters, inlines, deactivation, and the add/change forms."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from accounts.models import Profile, SecurityEvent, User
from accounts.services import security_event_record
from accounts.tests.admin_forms import FormFields
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory, UserFactory
from social import services as social_services

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(StaffUserFactory())
    return client


def listed(response) -> set[str]:
    return {user.handle for user in response.context["cl"].result_list}


def test_non_staff_cannot_open_the_user_admin(user):
    client = Client()
    client.force_login(user)
    assert client.get(CHANGELIST).status_code in (302, 403)


def test_search_by_email_and_handle(staff_client):
    UserFactory(email="findme@example.org", handle="alpha_one")
    UserFactory(email="other@example.org", handle="FindHandle")
    UserFactory(email="third@example.org", handle="nobody")
    assert listed(staff_client.get(CHANGELIST, {"q": "findme@"})) == {"alpha_one"}
    assert listed(staff_client.get(CHANGELIST, {"q": "findhandle"})) == {"FindHandle"}


def test_filters_by_active_staff_and_verified(staff_client):
    UserFactory(handle="verified_one")
    UserFactory(handle="unverified_one", verified=False)
    inactive = UserFactory(handle="inactive_one")
    User.objects.filter(pk=inactive.pk).update(is_active=False)

    unverified = listed(staff_client.get(CHANGELIST, {"verified": "no"}))
    assert "unverified_one" in unverified and "verified_one" not in unverified
    verified = listed(staff_client.get(CHANGELIST, {"verified": "yes"}))
    assert "verified_one" in verified and "unverified_one" not in verified
    assert listed(staff_client.get(CHANGELIST, {"is_active__exact": "0"})) == {"inactive_one"}
    assert "verified_one" not in listed(staff_client.get(CHANGELIST, {"is_staff__exact": "1"}))


def test_change_page_shows_profile_and_latest_security_events(staff_client):
    someone = UserFactory()
    for i in range(25):
        security_event_record(user=someone, kind=SecurityEvent.Kind.LOGIN, detail={"n": i})
    response = staff_client.get(f"{CHANGELIST}{someone.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Security log (latest 20)" in html
    assert 'name="profile-0-display_name"' in html or 'name="profile-display_name"' in html
    inline = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is SecurityEvent)
    assert len(list(inline)) == 20


def test_deactivate_action_ends_sessions(staff_client):
    victim = UserFactory()
    session_client = Client()
    session_client.post("/accounts/login/", {"login": victim.email, "password": DEFAULT_PASSWORD})
    session_client.get("/settings/profile/")
    assert UserSession.objects.filter(user=victim).exists()

    response = staff_client.post(
        CHANGELIST,
        {"action": "deactivate", "_selected_action": [victim.pk], "reason": "asked to"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Deactivated; their sessions are ended: 1." in response.content.decode()
    victim.refresh_from_db()
    assert victim.is_active is False
    assert not UserSession.objects.filter(user=victim).exists()
    assert SecurityEvent.objects.filter(user=victim, kind=SecurityEvent.Kind.ACCOUNT_DEACTIVATED).exists()
    # Their browser is signed out.
    assert session_client.get("/settings/profile/").status_code == 302


def test_add_user_with_email_handle_and_password(staff_client):
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {
            "email": "New.Person@Example.com",
            "handle": "new_person",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    created = User.objects.get(handle="new_person")
    assert created.email == "new.person@example.com"
    assert created.check_password("a-long-enough-passphrase")
    assert Profile.objects.filter(user=created).exists()


@pytest.mark.parametrize(
    ("email", "handle", "field"),
    [
        ("taken@example.com", "fresh_handle", "email"),
        ("TAKEN@example.com", "fresh_handle", "email"),
        ("fresh@example.com", "TAKEN_HANDLE", "handle"),
        ("fresh@example.com", "admin", "handle"),
        ("fresh@example.com", "no spaces!", "handle"),
    ],
)
def test_add_user_refuses_duplicates_and_reserved(staff_client, email, handle, field):
    UserFactory(email="taken@example.com", handle="taken_handle")
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {
            "email": email,
            "handle": handle,
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not User.objects.filter(email__iexact="fresh@example.com").exists()


def test_admin_delete_goes_through_account_deletion(staff_client):
    doomed = UserFactory()
    security_event_record(user=doomed, kind=SecurityEvent.Kind.LOGIN)
    response = staff_client.post(f"{CHANGELIST}{doomed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=doomed.pk).exists()
    assert not SecurityEvent.objects.filter(user_id=doomed.pk).exists()

    # Bulk deletion is not offered (its log rows would escape the audit log): one at a time.
    more = [UserFactory(), UserFactory()]
    staff_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [u.pk for u in more], "post": "yes"}
    )
    assert User.objects.filter(pk__in=[u.pk for u in more]).count() == 2


def test_an_app_page_names_the_project_users_apart_from_allauth_accounts(staff_client):
    assert "Accounts: users and security" in staff_client.get("/admin/accounts/").content.decode()
    assert "Accounts: users and security" not in staff_client.get("/admin/account/").content.decode()


def test_a_time_zone_changed_in_the_admin_reaches_the_users_open_sessions(
    staff_client, django_capture_on_commit_callbacks
):
    someone = UserFactory()
    post = social_services.post_create(author=someone, text="Hello")
    browser = Client()
    browser.post("/accounts/login/", {"login": someone.email, "password": DEFAULT_PASSWORD})
    assert "+00:00" in browser.get(f"/posts/{post.pk}/").content.decode()

    page = staff_client.get(f"{CHANGELIST}{someone.pk}/change/")
    fields = FormFields()
    fields.feed(page.content.decode())
    assert fields.data["profile-0-timezone"] == ["UTC"]
    fields.data["profile-0-timezone"] = ["Asia/Tokyo"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{CHANGELIST}{someone.pk}/change/", fields.data)
    assert response.status_code == 302, response.context["errors"]
    assert Profile.objects.get(user=someone).timezone == "Asia/Tokyo"

    assert "+09:00" in browser.get(f"/posts/{post.pk}/").content.decode()


def test_a_display_name_typed_in_the_admin_is_cleaned_like_everywhere_else(staff_client):
    someone = UserFactory()
    page = staff_client.get(f"{CHANGELIST}{someone.pk}/change/")
    fields = FormFields()
    fields.feed(page.content.decode())
    fields.data["profile-0-display_name"] = ["\u202eadmin\u200b"]
    fields.data["profile-0-bio"] = ["line\u2066one\u2069"]

    response = staff_client.post(f"{CHANGELIST}{someone.pk}/change/", fields.data)

    assert response.status_code == 302, response.context["errors"]
    profile = Profile.objects.get(user=someone)
    assert profile.display_name == "admin"
    assert profile.bio == "lineone"


def test_the_admin_refuses_a_reserved_handle_and_an_unknown_notification_kind(staff_client):
    someone = UserFactory()
    page = staff_client.get(f"{CHANGELIST}{someone.pk}/change/")
    fields = FormFields()
    fields.feed(page.content.decode())
    fields.data["handle"] = ["Support"]
    fields.data["profile-0-notification_preferences"] = ['{"gossip": true}']

    response = staff_client.post(f"{CHANGELIST}{someone.pk}/change/", fields.data)

    assert response.status_code == 200
    assert "reserved" in str(response.context["adminform"].form.errors["handle"])
    assert "Unknown kind: gossip" in response.content.decode()
    someone.refresh_from_db()
    assert someone.handle != "Support"
