"""Referral review in the admin needs its own permission: view-only staff can look, not reject
referrals or take credits back; the Billing role can, each decision audited; the list exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory, staff_member
from audit.models import AuditEntry
from referrals.models import Referral, Reward
from referrals.rewards import referral_conversion_record
from referrals.tests.factories import make_referral

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pending_reward(user):
    referral = make_referral(referrer=user)
    referral_conversion_record(referred=referral.referred, invoice_id="in_roles")
    return Reward.objects.get(referral=referral)


def test_view_only_staff_cannot_reject_referrals_or_reverse_rewards(user, pending_reward):
    viewer = signed_in(staff_member(permissions=["referrals.view_referral", "referrals.view_reward"]))
    assert viewer.get("/admin/referrals/referral/").status_code == 200
    listing = viewer.get("/admin/referrals/referral/").content.decode()
    assert 'value="reject"' not in listing
    viewer.post(
        "/admin/referrals/referral/",
        {"action": "reject", "_selected_action": [pending_reward.referral_id], "reason": "x"},
    )
    viewer.post(
        "/admin/referrals/reward/",
        {"action": "cancel_or_reverse", "_selected_action": [pending_reward.pk], "reason": "x"},
    )
    assert Referral.objects.get(pk=pending_reward.referral_id).status != Referral.Status.REJECTED
    assert Reward.objects.get(pk=pending_reward.pk).status == Reward.Status.PENDING
    assert not AuditEntry.objects.exists()


def test_billing_rejects_and_takes_back_with_an_audit_entry(user, pending_reward):
    billing = signed_in(staff_member("Billing", handle="bill"))
    billing.post(
        "/admin/referrals/reward/",
        {"action": "cancel_or_reverse", "_selected_action": [pending_reward.pk], "reason": "self-referral"},
    )
    assert Reward.objects.get(pk=pending_reward.pk).status == Reward.Status.CANCELLED
    billing.post(
        "/admin/referrals/referral/",
        {"action": "reject", "_selected_action": [pending_reward.referral_id], "reason": "self-referral"},
    )
    assert Referral.objects.get(pk=pending_reward.referral_id).status == Referral.Status.REJECTED
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "reason", "kind")) == [
        ("reward.cancelled", "self-referral", AuditEntry.Kind.REFERRALS),
        ("referral.reject", "self-referral", AuditEntry.Kind.REFERRALS),
    ]
    assert AuditEntry.objects.filter(actor_label__startswith="@bill").count() == 2


def test_the_referral_list_exports_as_csv(user):
    make_referral(referrer=user, referred=UserFactory(handle="friend_csv"))
    billing = signed_in(staff_member("Billing"))
    response = billing.post(
        "/admin/referrals/referral/",
        {"action": "export_as_csv", "select_across": "1", "_selected_action": ["0"]},
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["ID", "referrer", "referred"]
    assert any("@friend_csv" in row for row in rows[1:]), rows
    viewer = signed_in(staff_member(permissions=["referrals.view_referral"]))
    response = viewer.post(
        "/admin/referrals/referral/",
        {"action": "export_as_csv", "select_across": "1", "_selected_action": ["0"]},
    )
    assert not response.get("Content-Type", "").startswith("text/csv")
