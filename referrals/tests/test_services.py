"""Attribution rules, fraud flags, review and the exactly-once reward (no Stripe needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from config.errors import ApplicationError, ConflictError
from referrals.hashing import device_hash, ip_hash
from referrals.lifecycle import referrals_erase, referrals_export
from referrals.models import Referral, Reward, UserSignal
from referrals.rewards import referral_conversion_record, reward_cancel, reward_create_for_conversion
from referrals.selectors import mask_email, referral_stats_get_for_user
from referrals.services import (
    referral_apply,
    referral_approve,
    referral_attribute,
    referral_click_record,
    referral_reject,
    referral_signup_record,
    user_signal_record,
    user_signal_record_seen,
)
from referrals.tests.factories import make_referral, referrer_code

pytestmark = pytest.mark.django_db


def test_own_code_is_refused(user):
    with pytest.raises(ApplicationError) as exc:
        referral_apply(user=user, code=referrer_code(user))
    assert exc.value.code == "self_referral"
    assert not Referral.objects.exists()


def test_unknown_code_is_refused(user):
    with pytest.raises(ApplicationError) as exc:
        referral_apply(user=user, code="ABCDEFGH")
    assert exc.value.code == "unknown_code"
    assert exc.value.fields == {"code": ["Unknown referral code."]}


def test_code_of_a_deactivated_user_is_unknown(user, other_user):
    code = referrer_code(other_user)
    other_user.is_active = False
    other_user.save()
    with pytest.raises(ApplicationError):
        referral_apply(user=user, code=code)


def test_second_code_is_refused_and_the_first_referrer_stays(user):
    first, second = UserFactory(), UserFactory()
    referral_apply(user=user, code=referrer_code(first))
    with pytest.raises(ConflictError) as exc:
        referral_apply(user=user, code=referrer_code(second))
    assert exc.value.code == "already_referred"
    with pytest.raises(ConflictError):
        referral_attribute(referred=user, code=referrer_code(second), source="typed")
    assert Referral.objects.get(referred=user).referrer == first


def test_apply_after_the_window_is_refused(user, other_user):
    user.date_joined = timezone.now() - timedelta(days=15)
    user.save()
    with pytest.raises(ApplicationError) as exc:
        referral_apply(user=user, code=referrer_code(other_user))
    assert exc.value.code == "apply_window_closed"


def test_apply_within_the_window_in_lower_case(user, other_user):
    user.date_joined = timezone.now() - timedelta(days=13)
    user.save()
    referral = referral_apply(user=user, code=referrer_code(other_user).lower())
    assert referral.referrer == other_user
    assert referral.source == Referral.Source.APPLIED


# --- Fraud flags ---------------------------------------------------------------------------------


def test_same_ip_as_referrer_sign_up_is_flagged(user):
    referral_signup_record(user=user, ip_hash=ip_hash("203.0.113.1"), device_hash="")
    newcomer = UserFactory()
    referral = referral_attribute(
        referred=newcomer, code=referrer_code(user), source="typed", ip_hash=ip_hash("203.0.113.1")
    )
    assert referral.status == Referral.Status.FLAGGED
    assert referral.flag_reasons == ["same_ip"]


def test_same_ip_as_referrer_last_login_is_flagged(user):
    user_signal_record_seen(user=user, ip_hash=ip_hash("203.0.113.2"), device_hash="")
    referral = make_referral(referrer=user, ip="203.0.113.2")
    assert referral.flag_reasons == ["same_ip"]


def test_same_device_is_flagged(user):
    user_signal_record_seen(user=user, ip_hash="", device_hash=device_hash("device-1"))
    referral = referral_attribute(
        referred=UserFactory(), code=referrer_code(user), source="link", device_hash=device_hash("device-1")
    )
    assert referral.flag_reasons == ["same_device"]


def test_throwaway_email_domain_is_flagged(user, settings):
    referral = make_referral(referrer=user, referred=UserFactory(email="x@mailinator.com"))
    assert referral.flag_reasons == ["disposable_email"]
    settings.REFERRAL_BLOCKED_EMAIL_DOMAINS = ["Burner.Example"]
    referral = make_referral(referrer=user, referred=UserFactory(email="y@burner.example"))
    assert referral.flag_reasons == ["disposable_email"]


def test_many_signups_from_one_ip_are_flagged(user, settings):
    settings.REFERRAL_MAX_SIGNUPS_PER_IP = 2
    shared = ip_hash("198.51.100.200")
    for _ in range(2):
        user_signal_record(user=UserFactory(), kind=UserSignal.Kind.SIGNUP_IP, value_hash=shared)
    referral = referral_attribute(
        referred=UserFactory(), code=referrer_code(user), source="link", ip_hash=shared
    )
    assert referral.flag_reasons == ["ip_velocity"]


def test_old_signups_from_the_ip_do_not_count(user, settings):
    settings.REFERRAL_MAX_SIGNUPS_PER_IP = 1
    shared = ip_hash("198.51.100.201")
    user_signal_record(user=UserFactory(), kind=UserSignal.Kind.SIGNUP_IP, value_hash=shared)
    UserSignal.objects.update(created_at=timezone.now() - timedelta(days=2))
    referral = referral_attribute(
        referred=UserFactory(), code=referrer_code(user), source="link", ip_hash=shared
    )
    assert referral.status == Referral.Status.SIGNED_UP


def test_a_clean_referral_is_not_flagged(user):
    referral_signup_record(user=user, ip_hash=ip_hash("203.0.113.9"), device_hash=device_hash("a"))
    referral = referral_attribute(
        referred=UserFactory(),
        code=referrer_code(user),
        source="link",
        ip_hash=ip_hash("192.0.2.99"),
        device_hash=device_hash("b"),
    )
    assert referral.status == Referral.Status.SIGNED_UP
    assert referral.flag_reasons == []


def test_same_card_at_conversion_flags_instead_of_rewarding(user):
    referral = make_referral(referrer=user)
    reward = referral_conversion_record(
        referred=referral.referred,
        invoice_id="in_1",
        card_fingerprint="fp_same",
        referrer_card_fingerprints=frozenset({"fp_same"}),
    )
    assert reward is None
    referral.refresh_from_db()
    assert referral.status == Referral.Status.FLAGGED
    assert "same_card" in referral.flag_reasons


# --- Review and rewards ledger ---------------------------------------------------------------------


def test_first_paid_invoice_creates_exactly_one_pending_reward(user, settings):
    settings.REFERRAL_REFERRER_CREDIT_CENTS = 700
    referral = make_referral(referrer=user)
    first = referral_conversion_record(referred=referral.referred, invoice_id="in_1", charge_id="ch_1")
    again = referral_conversion_record(referred=referral.referred, invoice_id="in_1", charge_id="ch_1")
    later_invoice = referral_conversion_record(referred=referral.referred, invoice_id="in_2")
    assert first is not None and again is not None and first.pk == again.pk
    assert later_invoice is None
    reward = Reward.objects.get()
    assert (reward.status, reward.amount_cents, reward.beneficiary) == ("pending", 700, user)
    assert reward.stripe_invoice_id == "in_1" and reward.stripe_charge_id == "ch_1"
    assert reward.hold_until > timezone.now() + timedelta(days=13)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CONVERTED


def test_reward_creation_is_idempotent_through_the_constraint(user):
    referral = make_referral(referrer=user)
    referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    referral.refresh_from_db()
    assert reward_create_for_conversion(referral=referral) == Reward.objects.get()
    assert Reward.objects.count() == 1


def test_flagged_referral_earns_nothing_until_approved(user, other_user):
    staff = UserFactory(is_staff=True)
    user_signal_record_seen(user=user, ip_hash=ip_hash("203.0.113.5"), device_hash="")
    referral = make_referral(referrer=user, ip="203.0.113.5")
    assert referral_conversion_record(referred=referral.referred, invoice_id="in_1") is None
    assert not Reward.objects.exists()
    referral_approve(referral=referral, actor=staff)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.CONVERTED
    assert referral.reviewed_by == staff
    assert Reward.objects.get().stripe_invoice_id == "in_1"


def test_rejecting_cancels_the_pending_reward_and_approving_twice_is_refused(user):
    staff = UserFactory(is_staff=True)
    referral = make_referral(referrer=user)
    referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    referral_reject(referral=referral, actor=staff)
    assert Reward.objects.get().status == Reward.Status.CANCELLED
    referral_approve(referral=referral, actor=staff)  # a rejected referral may be approved again
    with pytest.raises(ConflictError):
        referral_approve(referral=referral, actor=staff)


def test_cancel_only_pending(user):
    referral = make_referral(referrer=user)
    reward = referral_conversion_record(referred=referral.referred, invoice_id="in_1")
    assert reward is not None
    reward_cancel(reward=reward, note="Refunded")
    with pytest.raises(ConflictError):
        reward_cancel(reward=reward, note="again")


# --- Stats, masking, lifecycle -------------------------------------------------------------------------


def test_stats_count_clicks_signups_conversions_and_credit(user):
    code = referrer_code(user)
    for _ in range(3):
        referral_click_record(code=code, visitor=None, ip_hash="", device_hash="")
    converted = make_referral(referrer=user)
    make_referral(referrer=user)
    rejected = make_referral(referrer=user)
    referral_reject(referral=rejected, actor=UserFactory(is_staff=True))
    referral_conversion_record(referred=converted.referred, invoice_id="in_1")
    Reward.objects.update(status=Reward.Status.GRANTED)
    stats = referral_stats_get_for_user(user=user)
    assert (stats.clicks, stats.signups, stats.conversions) == (3, 2, 1)
    assert stats.credit_earned_cents == 500


@pytest.mark.parametrize(
    ("email", "masked"),
    [("alice@example.com", "al***@e***.com"), ("b@x.co.uk", "b***@x***.uk"), ("odd@localhost", "od***@l***")],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


def test_export_and_erase(user):
    referred = UserFactory(email="friend@example.com")
    referral = make_referral(referrer=user, referred=referred)
    referral_conversion_record(referred=referred, invoice_id="in_1")
    exported = referrals_export(user=user)
    assert exported["code"] == referrer_code(user)
    assert exported["referrals"][0]["user"] == "fr***@e***.com"
    assert exported["rewards"][0]["amount_cents"] == 500
    assert referrals_export(user=referred)["referred_by"] == f"@{user.handle}"

    referrals_erase(user=referred)
    referral.refresh_from_db()
    assert referral.referred is None  # the referrer keeps the line in their ledger
    assert Reward.objects.filter(beneficiary=user).count() == 1
    referrals_erase(user=user)
    assert not Referral.objects.exists() and not Reward.objects.exists()


def test_demo_seed_is_idempotent():
    import io

    from referrals.demo import seed

    users = [UserFactory(handle="alice"), UserFactory(handle="bob"), UserFactory(handle="carol")]
    seed(users=users, stdout=io.StringIO())
    seed(users=users, stdout=io.StringIO())
    assert Referral.objects.get().referrer.handle == "alice"
    assert all(referrer_code(u) for u in users)


def test_a_referral_that_would_close_a_circle_is_refused():
    a, b = UserFactory(), UserFactory()
    make_referral(referrer=a, referred=b)  # A brought B
    with pytest.raises(ApplicationError) as exc:
        referral_apply(user=a, code=referrer_code(b))  # now B's code for A
    assert exc.value.code == "circular_referral"
    assert list(Referral.objects.values_list("referrer", "referred")) == [(a.pk, b.pk)]


def test_longer_circles_are_refused_too_and_chains_are_fine():
    a, b, c, d = (UserFactory() for _ in range(4))
    make_referral(referrer=a, referred=b)
    make_referral(referrer=b, referred=c)
    make_referral(referrer=c, referred=d)  # A → B → C → D
    for code_owner in (b, c, d):
        with pytest.raises(ApplicationError) as exc:
            referral_apply(user=a, code=referrer_code(code_owner))
        assert exc.value.code == "circular_referral"
    assert not Referral.objects.filter(referred=a).exists()
    # A code from outside the chain is fine: E → A makes a longer chain, not a circle.
    e = UserFactory()
    assert referral_apply(user=a, code=referrer_code(e)).referrer == e


def test_the_api_refuses_a_circular_referral_with_a_clear_error(user):
    from rest_framework.test import APIClient

    friend = UserFactory()
    make_referral(referrer=user, referred=friend)
    client = APIClient()
    client.force_login(user)
    response = client.post("/api/v1/referrals/apply/", {"code": referrer_code(friend)}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "circular_referral"
