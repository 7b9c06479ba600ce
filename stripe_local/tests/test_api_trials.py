"""Ending a trial with a plan change, as Stripe does: ``trial_end=now`` with new items invoices
the new price at once; ``error_if_incomplete`` refuses a declined charge and changes nothing;
the preview of such a change (``subscription_details[trial_end]=now``) shows that invoice."""

from __future__ import annotations

import pytest
import stripe

from stripe_local.tests.helpers import customer_with_card, recurring_price


def _trial(card: str = "pm_card_visa"):
    customer, _ = customer_with_card(card)
    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": recurring_price(800).id}], trial_period_days=14
    )
    return customer, sub


def test_ending_the_trial_with_a_plan_change_invoices_the_new_price_now(stripe_local):
    customer, sub = _trial()
    team = recurring_price(2400)
    preview = stripe.Invoice.create_preview(
        customer=customer.id,
        subscription=sub.id,
        subscription_details={
            "items": [{"id": sub["items"].data[0].id, "price": team.id}],
            "trial_end": "now",
        },
    )
    assert preview.amount_due == 2400 and preview.next_payment_attempt == stripe_local.now

    changed = stripe.Subscription.modify(
        sub.id,
        items=[{"id": sub["items"].data[0].id, "price": team.id}],
        trial_end="now",
        payment_behavior="error_if_incomplete",
    )
    assert changed.status == "active" and changed.trial_end == stripe_local.now
    invoice = stripe.Invoice.retrieve(changed.latest_invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 2400)


def test_a_declined_charge_with_error_if_incomplete_changes_nothing(stripe_local):
    customer = stripe.Customer.create(email="d@example.com")
    failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer.id)
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": failing.id})
    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": recurring_price(800).id}], trial_period_days=14
    )
    team = recurring_price(2400)
    events_before = len(stripe_local.events())
    with pytest.raises(stripe.CardError):
        stripe.Subscription.modify(
            sub.id,
            items=[{"id": sub["items"].data[0].id, "price": team.id}],
            trial_end="now",
            payment_behavior="error_if_incomplete",
        )
    after = stripe.Subscription.retrieve(sub.id)
    assert after.status == "trialing" and after["items"].data[0].price.unit_amount == 800
    assert len(stripe_local.events()) == events_before  # no event of the refused attempt
