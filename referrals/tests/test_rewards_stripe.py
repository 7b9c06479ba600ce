"""End to end on the Stripe stand-in: link → sign-up → discounted checkout → invoice.paid →
hold → credit on the referrer's Stripe balance; refunds and disputes cancel or reverse it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import stripe
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from billing.tests.factories import post_webhook
from referrals import tasks
from referrals.models import Referral, Reward
from referrals.rewards import referral_checkout_discounts, rewards_grant_due
from referrals.tests.factories import referrer_code, signup_payload

pytestmark = pytest.mark.django_db


def _referred_user_via_link(referrer: User, n: int = 1) -> tuple[User, APIClient]:
    visitor = Client()
    visitor.get(f"/r/{referrer_code(referrer)}", REMOTE_ADDR="198.51.100.7")
    response = visitor.post("/accounts/signup/", signup_payload(n), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    referred = User.objects.get(handle=f"new{n}")
    api = APIClient()
    api.force_login(referred)
    return referred, api


def _balance(user: User) -> int:
    from billing.selectors import customer_get_for_user

    customer = customer_get_for_user(user=user)
    return int(stripe.Customer.retrieve(customer.id).balance) if customer else 0


def _paid_invoice(user: User) -> dict:
    from billing.selectors import customer_get_for_user

    invoices = stripe.Invoice.list(customer=customer_get_for_user(user=user).id).data
    return next(i for i in invoices if i.status == "paid" and i.amount_paid > 0)


def test_referred_user_pays_with_discount_and_referrer_is_credited_after_the_hold(billing, settings):
    settings.REFERRAL_REFERRER_CREDIT_CENTS = 700
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    assert referral_checkout_discounts(referred) == [{"coupon": settings.REFERRAL_COUPON_ID}]

    billing.checkout(api, "team_monthly")

    invoice = _paid_invoice(referred)
    assert invoice.amount_paid == 2400 * 80 // 100  # 20% off the first invoice
    referral = Referral.objects.get(referred=referred)
    assert referral.status == Referral.Status.CONVERTED
    reward = Reward.objects.get()
    assert (reward.status, reward.amount_cents, reward.beneficiary) == ("pending", 700, referrer)
    assert reward.stripe_invoice_id == invoice.id and reward.stripe_charge_id == invoice.charge
    assert referral_checkout_discounts(referred) == []  # first subscription only

    # Still on hold: nothing is granted.
    assert rewards_grant_due() == 0
    assert _balance(referrer) == 0

    assert rewards_grant_due(now=timezone.now() + timedelta(days=15)) == 1
    reward.refresh_from_db()
    assert reward.status == Reward.Status.GRANTED
    assert reward.stripe_balance_transaction_id.startswith("cbtxn_")
    assert _balance(referrer) == -700  # a credit Stripe applies to the referrer's next invoice
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REWARDED
    # Running the beat task again grants nothing twice.
    tasks.rewards_grant_due.delay()
    assert _balance(referrer) == -700

    api_ref = APIClient()
    api_ref.force_login(referrer)
    stats = api_ref.get("/api/v1/referrals/stats/").json()
    assert stats["credit_earned_cents"] == 700 and stats["conversions"] == 1
    assert api_ref.get("/api/v1/referrals/rewards/").json()["results"][0]["status"] == "granted"

    # A refund after granting reverses the credit.
    stripe.Refund.create(charge=invoice.charge)
    assert ("charge.refunded", 200) in billing.deliver()
    reward.refresh_from_db()
    assert reward.status == Reward.Status.REVERSED
    assert reward.stripe_reversal_transaction_id.startswith("cbtxn_")
    assert _balance(referrer) == 0


def test_refund_within_the_hold_cancels_the_reward(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    stripe.Refund.create(charge=_paid_invoice(referred).charge)
    billing.deliver()
    reward = Reward.objects.get()
    assert reward.status == Reward.Status.CANCELLED
    assert rewards_grant_due(now=timezone.now() + timedelta(days=30)) == 0
    assert _balance(referrer) == 0


def test_duplicate_invoice_paid_gives_one_reward(billing, client):
    referrer = UserFactory()
    _referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    event = billing.stripe.events("invoice.paid")[0]
    for _ in range(2):
        with billing.capture(execute=True):
            assert post_webhook(client, billing.endpoint, event).status_code == 200
    assert Reward.objects.count() == 1


def test_out_of_order_delivery_gives_one_reward(billing):
    referrer = UserFactory()
    _referred, api = _referred_user_via_link(referrer)
    response = api.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    billing.stripe.pay_checkout(response.json()["url"])
    billing.deliver(order="reversed")
    assert Reward.objects.count() == 1
    assert Reward.objects.get().status == Reward.Status.PENDING


def test_flagged_referral_pays_full_price_and_earns_nothing(billing):
    referrer = UserFactory()
    referrer_client = Client()
    referrer_client.force_login(referrer)
    referrer_client.get("/settings/referrals/", REMOTE_ADDR="198.51.100.7")  # same IP as the sign-up
    referred, api = _referred_user_via_link(referrer)
    assert Referral.objects.get(referred=referred).status == Referral.Status.FLAGGED
    billing.checkout(api, "team_monthly")
    assert _paid_invoice(referred).amount_paid == 2400
    assert not Reward.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_invoice_paid_webhooks_give_one_reward(billing):
    referrer = UserFactory()
    _referred, api = _referred_user_via_link(referrer)
    response = api.post(
        "/api/v1/billing/checkout-session/", {"price_id": billing.prices["team_monthly"]}, format="json"
    )
    billing.stripe.pay_checkout(response.json()["url"])
    # Everything but invoice.paid first, so the race is on the reward.
    deliveries = billing.stripe.engine.take_deliveries()
    paid = [d for d in deliveries if billing.stripe.engine.get("event", d["event"])["type"] == "invoice.paid"]
    for d in deliveries:
        if d not in paid:
            billing.stripe.engine.requeue(d, status=0)
    billing.deliver()
    assert not Reward.objects.exists()
    event = billing.stripe.engine.out(billing.stripe.engine.get("event", paid[0]["event"]))

    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(
                post_webhook(Client(raise_request_exception=False), billing.endpoint, event).status_code
            )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 200 in statuses
    assert Reward.objects.count() == 1
    assert Reward.objects.get().status == Reward.Status.PENDING


def test_with_a_trial_the_reward_waits_for_the_first_paid_invoice(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "pro_monthly")  # 14-day trial: a $0 first invoice
    assert not Reward.objects.exists()
    assert Referral.objects.get(referred=referred).status == Referral.Status.SIGNED_UP
    billing.stripe.advance(days=15)
    billing.deliver()
    invoice = _paid_invoice(referred)
    assert (invoice.subtotal, invoice.amount_paid) == (800, 640)  # the discount waited for it too
    reward = Reward.objects.get()
    assert reward.stripe_invoice_id == invoice.id


def test_coupon_is_created_once(billing, settings):
    from django.core.cache import cache

    from referrals.rewards import referral_coupon_ensure

    assert referral_coupon_ensure() == settings.REFERRAL_COUPON_ID
    cache.clear()  # another process, without the cached answer
    assert referral_coupon_ensure() == settings.REFERRAL_COUPON_ID
    coupon = stripe.Coupon.retrieve(settings.REFERRAL_COUPON_ID)
    assert (coupon.percent_off, coupon.duration) == (20, "once")
    assert len([c for c in stripe.Coupon.list().data if c.id == settings.REFERRAL_COUPON_ID]) == 1


def _referrer_balance_transactions(user: User) -> list[int]:
    from billing.selectors import customer_get_for_user

    customer = customer_get_for_user(user=user)
    return [t.amount for t in stripe.Customer.list_balance_transactions(customer.id).data] if customer else []


def test_dispute_within_the_hold_cancels_the_pending_reward(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    assert Reward.objects.get().status == Reward.Status.PENDING

    billing.stripe.dispute(_paid_invoice(referred).charge)
    assert ("charge.dispute.created", 200) in billing.deliver()

    reward = Reward.objects.get()
    assert (reward.status, reward.note) == ("cancelled", "Payment disputed")
    assert rewards_grant_due(now=timezone.now() + timedelta(days=30)) == 0
    assert _balance(referrer) == 0 and _referrer_balance_transactions(referrer) == []


def test_dispute_after_the_grant_reverses_the_credit(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    assert rewards_grant_due(now=timezone.now() + timedelta(days=15)) == 1
    assert _balance(referrer) == -500

    billing.stripe.dispute(_paid_invoice(referred).charge)
    billing.deliver()

    reward = Reward.objects.get()
    assert (reward.status, reward.note) == ("reversed", "Payment disputed")
    assert reward.stripe_reversal_transaction_id.startswith("cbtxn_")
    # The credit is taken back with a positive balance transaction on the referrer's customer.
    assert _referrer_balance_transactions(referrer) == [500, -500]
    assert _balance(referrer) == 0
    assert Referral.objects.get(referred=referred).status == Referral.Status.CONVERTED
    api_ref = APIClient()
    api_ref.force_login(referrer)
    [line] = api_ref.get("/api/v1/referrals/rewards/").json()["results"]
    assert (line["status"], line["stripe_reversal_transaction_id"]) == (
        "reversed",
        reward.stripe_reversal_transaction_id,
    )
    assert api_ref.get("/api/v1/referrals/stats/").json()["credit_earned_cents"] == 0


def test_a_duplicate_dispute_event_changes_nothing_more(billing, client):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    rewards_grant_due(now=timezone.now() + timedelta(days=15))
    billing.stripe.dispute(_paid_invoice(referred).charge)
    billing.deliver()
    reversed_at = Reward.objects.get().reversed_at

    [event] = billing.stripe.events("charge.dispute.created")
    for _ in range(2):  # Stripe retries a delivery it thinks failed with the same event
        with billing.capture(execute=True):
            assert post_webhook(client, billing.endpoint, event).status_code == 200

    reward = Reward.objects.get()
    assert (reward.status, reward.reversed_at) == ("reversed", reversed_at)
    assert _referrer_balance_transactions(referrer) == [500, -500]
    assert _balance(referrer) == 0


def test_paying_with_the_disputed_test_card_never_earns_the_reward(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)

    # Card 0259: the charge succeeds, then is disputed; the dispute's event comes before invoice.paid.
    results = billing.checkout(api, "team_monthly", card="4000000000000259")

    assert results.status == 303
    assert stripe.Charge.retrieve(_paid_invoice(referred).charge).disputed is True
    reward = Reward.objects.get()
    assert reward.status == Reward.Status.CANCELLED
    assert rewards_grant_due(now=timezone.now() + timedelta(days=30)) == 0
    assert _balance(referrer) == 0


def test_a_code_cannot_be_applied_after_the_first_payment(billing):
    referrer, customer = UserFactory(), UserFactory()
    api = APIClient()
    api.force_login(customer)
    billing.checkout(api, "team_monthly")
    response = api.post("/api/v1/referrals/apply/", {"code": referrer_code(referrer)}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "already_paying"
    assert not Referral.objects.exists()
    # The page no longer offers the form, and says why.
    page = Client()
    page.force_login(customer)
    html = page.get("/settings/referrals/").content.decode()
    assert "before your first payment" in html and 'name="code"' not in html


def test_a_renewal_never_converts_a_referral_made_after_the_first_payment(billing):
    from referrals.services import referral_attribute

    referrer, customer = UserFactory(), UserFactory()
    api = APIClient()
    api.force_login(customer)
    billing.checkout(api, "team_monthly")
    # A referral the rules no longer allow (made by an older version, or by staff by hand).
    referral_attribute(referred=customer, code=referrer_code(referrer), source=Referral.Source.APPLIED)
    billing.stripe.advance(days=32)
    billing.deliver()
    paid = [
        i for i in stripe.Invoice.list(customer=_paid_invoice(customer).customer).data if i.amount_paid > 0
    ]
    assert len(paid) == 2  # the first payment and the renewal
    assert not Reward.objects.exists()
    assert Referral.objects.get(referred=customer).converted_at is None


def _granted_reward(billing) -> tuple[User, User, Reward]:
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    assert rewards_grant_due(now=timezone.now() + timedelta(days=15)) == 1
    return referrer, referred, Reward.objects.get()


def test_a_small_partial_refund_keeps_the_referrers_credit(billing):
    referrer, referred, reward = _granted_reward(billing)
    charge = stripe.Charge.retrieve(_paid_invoice(referred).charge)
    stripe.Refund.create(charge=charge.id, amount=charge.amount * 49 // 100)  # under half
    assert ("charge.refunded", 200) in billing.deliver()
    reward.refresh_from_db()
    assert reward.status == Reward.Status.GRANTED
    assert _balance(referrer) == -500


def test_partial_refunds_reaching_half_reverse_the_credit(billing):
    referrer, referred, reward = _granted_reward(billing)
    charge = stripe.Charge.retrieve(_paid_invoice(referred).charge)
    stripe.Refund.create(charge=charge.id, amount=charge.amount // 4)
    billing.deliver()
    assert Reward.objects.get().status == Reward.Status.GRANTED  # 25% so far
    stripe.Refund.create(charge=charge.id, amount=charge.amount * 30 // 100)  # 25% + 30%: over half
    billing.deliver()
    reward.refresh_from_db()
    assert reward.status == Reward.Status.REVERSED
    assert _referrer_balance_transactions(referrer) == [500, -500]
    assert _balance(referrer) == 0


def test_a_small_partial_refund_within_the_hold_keeps_the_pending_reward(billing):
    referrer = UserFactory()
    referred, api = _referred_user_via_link(referrer)
    billing.checkout(api, "team_monthly")
    charge = stripe.Charge.retrieve(_paid_invoice(referred).charge)
    stripe.Refund.create(charge=charge.id, amount=100)
    billing.deliver()
    assert Reward.objects.get().status == Reward.Status.PENDING
    assert rewards_grant_due(now=timezone.now() + timedelta(days=15)) == 1
