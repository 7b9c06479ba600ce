"""The referrals settings page and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory, UserFactory
from referrals.cookies import DEVICE_COOKIE
from referrals.models import Referral, Reward
from referrals.rewards import referral_conversion_record
from referrals.tests.factories import make_referral, referrer_code

pytestmark = pytest.mark.django_db


def test_page_needs_login(client):
    response = client.get("/settings/referrals/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_page_shows_code_link_stats_and_masked_people(client, user):
    referral = make_referral(referrer=user, referred=UserFactory(email="eve.friend@example.com"))
    referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    client.force_login(user)
    response = client.get("/settings/referrals/")
    assert response.status_code == 200
    html = response.content.decode()
    code = referrer_code(user)
    assert code in html
    assert f"/r/{code}" in html
    assert 'data-copy="#referral-link"' in html
    assert "ev***@e***.com" in html
    assert "eve.friend" not in html
    assert "5.00 USD" in html  # the pending reward in the ledger
    assert DEVICE_COOKIE in response.cookies


def test_apply_form_applies_a_code(client, user, other_user):
    client.force_login(user)
    response = client.post("/settings/referrals/", {"code": referrer_code(other_user).lower()}, follow=True)
    assert response.status_code == 200
    assert "Referral code applied" in response.content.decode()
    assert Referral.objects.get(referred=user).referrer == other_user
    assert f"referred by @{other_user.handle}" in response.content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [("ZZZZ3333", "This referral code does not exist."), ("own", "You cannot use your own referral code.")],
)
def test_apply_form_errors(client, user, code, message):
    client.force_login(user)
    response = client.post("/settings/referrals/", {"code": referrer_code(user) if code == "own" else code})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Referral.objects.exists()


def test_apply_form_is_gone_after_the_window(client, user, other_user):
    user.date_joined = timezone.now() - timedelta(days=20)
    user.save()
    client.force_login(user)
    response = client.get("/settings/referrals/")
    assert "within 14 days of sign-up" in response.content.decode()
    response = client.post("/settings/referrals/", {"code": referrer_code(other_user)})
    assert "only be applied within 14 days" in response.content.decode()
    assert not Referral.objects.exists()


def test_admin_lists_filters_and_reviews(client, user):
    staff = StaffUserFactory()
    flagged = make_referral(referrer=user, referred=UserFactory(email="q@yopmail.com"))
    referral_conversion_record(referred=flagged.referred, invoice_id="in_9")
    make_referral(referrer=user)
    client.force_login(staff)
    assert client.get("/admin/referrals/referral/?status__exact=flagged").status_code == 200
    response = client.post(
        "/admin/referrals/referral/", {"action": "approve", "_selected_action": [flagged.pk]}, follow=True
    )
    assert response.status_code == 200
    flagged.refresh_from_db()
    assert flagged.status == Referral.Status.CONVERTED
    assert Reward.objects.get().status == Reward.Status.PENDING

    response = client.post(
        "/admin/referrals/reward/",
        {
            "action": "cancel_or_reverse",
            "_selected_action": [Reward.objects.get().pk],
            "reason": "self-referral",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert Reward.objects.get().status == Reward.Status.CANCELLED

    response = client.get("/admin/referrals/topreferrer/")
    assert response.status_code == 200
    assert user.handle in response.content.decode()
    assert client.get("/admin/referrals/reward/").status_code == 200
