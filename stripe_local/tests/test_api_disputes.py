"""The stand-in's disputes and invoice closing, over its HTTP API."""

from __future__ import annotations

import pytest
import stripe

from stripe_local.tests.helpers import customer_with_card, raw, recurring_price


def _paid_charge(card: str = "pm_card_visa", amount: int = 1000) -> stripe.Charge:
    customer, _ = customer_with_card(card)
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(amount).id}])
    return stripe.Charge.retrieve(stripe.Invoice.retrieve(sub.latest_invoice).charge)


def test_card_0259_is_charged_then_disputed(stripe_local):
    pm = stripe.PaymentMethod.create(
        type="card", card={"number": "4000000000000259", "exp_month": 12, "exp_year": 34}
    )
    customer = stripe.Customer.create(email="fraud@example.com")
    stripe.PaymentMethod.attach(pm.id, customer=customer.id)
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": pm.id})
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(1000).id}])

    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    charge = stripe.Charge.retrieve(invoice.charge)
    [dispute] = stripe.Dispute.list(charge=charge.id).data
    refund = raw(stripe_local, "POST", "/v1/refunds", {"charge": charge.id})

    assert invoice.status == "paid" and sub.status == "active"
    assert charge.status == "succeeded" and charge.disputed is True
    assert dispute.id.startswith("dp_") and dispute.payment_intent == charge.payment_intent
    assert (dispute.amount, dispute.reason, dispute.status) == (1000, "fraudulent", "needs_response")
    assert dispute.is_charge_refundable is False
    assert dispute.payment_method_details.card.case_type == "chargeback"
    [withdrawal] = dispute.balance_transactions
    assert (withdrawal.type, withdrawal.amount, withdrawal.fee, withdrawal.net) == (
        "adjustment",
        -1000,
        1500,
        -2500,
    )
    assert withdrawal.source == dispute.id
    assert stripe.BalanceTransaction.retrieve(withdrawal.id).reporting_category == "dispute"
    types = stripe_local.event_types()
    assert types.index("charge.succeeded") < types.index("charge.dispute.created")
    assert {"charge.dispute.created", "charge.dispute.funds_withdrawn"} <= set(types)
    [updated] = [e for e in stripe_local.events("charge.updated") if e["data"]["object"]["id"] == charge.id]
    assert updated["data"]["previous_attributes"] == {"disputed": False}
    assert stripe_local.events("charge.dispute.created")[0]["data"]["object"]["charge"] == charge.id
    assert refund[0] == 400 and refund[1]["error"]["code"] == "charge_disputed"


def test_dispute_test_tokens_and_the_inquiry_card(stripe_local):
    not_received = _paid_charge("pm_card_createDisputeProductNotReceived")
    inquiry = _paid_charge("pm_card_createDisputeInquiry")

    [lost] = stripe.Dispute.list(charge=not_received.id).data
    [asked] = stripe.Dispute.list(charge=inquiry.id).data

    assert (lost.reason, lost.status) == ("product_not_received", "needs_response")
    assert (asked.status, asked.is_charge_refundable, asked.balance_transactions) == (
        "warning_needs_response",
        True,
        [],
    )
    assert asked.payment_method_details.card.case_type == "inquiry"
    assert len(stripe_local.events("charge.dispute.funds_withdrawn")) == 1  # the inquiry withdraws nothing
    assert stripe.Refund.create(charge=inquiry.id).status == "succeeded"  # an inquiry can be refunded


def test_local_disputes_endpoint_list_and_retrieve(stripe_local):
    charge = _paid_charge()
    other = _paid_charge(amount=2000)
    stripe.Refund.create(charge=other.id, amount=500)

    created = raw(stripe_local, "POST", "/_local/disputes", {"charge": charge.id, "reason": "duplicate"})
    partial = raw(stripe_local, "POST", "/_local/disputes", {"charge": other.id})
    fetched = raw(stripe_local, "GET", f"/v1/disputes/{created[1]['id']}", {"expand[]": "charge"})
    by_charge = raw(stripe_local, "GET", "/v1/disputes", {"charge": charge.id})
    everything = raw(stripe_local, "GET", "/v1/disputes", {"limit": "1"})

    assert created[0] == 200 and created[1]["object"] == "dispute" and created[1]["reason"] == "duplicate"
    assert partial[1]["amount"] == 1500 and partial[1]["reason"] == "fraudulent"  # the unrefunded part
    assert fetched[0] == 200 and fetched[1]["charge"]["id"] == charge.id and fetched[1]["charge"]["disputed"]
    assert [d["id"] for d in by_charge[1]["data"]] == [created[1]["id"]]
    assert everything[1]["has_more"] is True and everything[1]["url"] == "/v1/disputes"
    assert stripe.Charge.retrieve(charge.id).disputed is True
    assert len(stripe_local.events("charge.dispute.created")) == 2


def test_local_disputes_endpoint_refuses_bad_input(stripe_local):
    charge = _paid_charge()
    failing, _ = customer_with_card("pm_card_chargeCustomerFail")
    stripe.Subscription.create(customer=failing.id, items=[{"price": recurring_price().id}])
    failed = stripe.Charge.list(customer=failing.id).data[0]
    refunded = _paid_charge()
    stripe.Refund.create(charge=refunded.id)
    raw(stripe_local, "POST", "/_local/disputes", {"charge": charge.id})
    before = len(stripe_local.events())

    cases = {
        "missing": raw(stripe_local, "POST", "/_local/disputes", {}),
        "unknown": raw(stripe_local, "POST", "/_local/disputes", {"charge": "ch_nope"}),
        "twice": raw(stripe_local, "POST", "/_local/disputes", {"charge": charge.id}),
        "failed": raw(stripe_local, "POST", "/_local/disputes", {"charge": failed.id}),
        "refunded": raw(stripe_local, "POST", "/_local/disputes", {"charge": refunded.id}),
        "reason": raw(stripe_local, "POST", "/_local/disputes", {"charge": refunded.id, "reason": "bored"}),
        "param": raw(stripe_local, "POST", "/_local/disputes", {"charge": charge.id, "amount": "5"}),
        "retrieve": raw(stripe_local, "GET", "/v1/disputes/dp_nope"),
        "list": raw(stripe_local, "GET", "/v1/disputes", {"customer": "cus_x"}),
    }

    assert {name: (status, body["error"].get("code")) for name, (status, body, _) in cases.items()} == {
        "missing": (400, "parameter_missing"),
        "unknown": (404, "resource_missing"),
        "twice": (400, "charge_disputed"),
        "failed": (400, None),
        "refunded": (400, None),
        "reason": (400, "parameter_invalid"),
        "param": (400, "parameter_unknown"),
        "retrieve": (404, "resource_missing"),
        "list": (400, "parameter_unknown"),
    }
    assert len(stripe_local.events()) == before  # a refused request changes nothing


def test_dispute_evidence_and_close(stripe_local):
    charge = _paid_charge()
    dispute = stripe_local.dispute(charge.id)

    staged = stripe.Dispute.modify(dispute["id"], evidence={"customer_name": "Ada"}, submit=False)
    submitted = stripe.Dispute.modify(dispute["id"], evidence={"uncategorized_text": "Delivered."})
    unknown = raw(stripe_local, "POST", f"/v1/disputes/{dispute['id']}", {"evidence[nonsense]": "x"})
    other = stripe.Dispute.retrieve(stripe_local.dispute(_paid_charge().id)["id"])
    closed = stripe.Dispute.close(other.id)
    again = raw(stripe_local, "POST", f"/v1/disputes/{other.id}/close")

    assert staged.status == "needs_response" and staged.evidence_details.has_evidence is True
    assert submitted.status == "under_review" and submitted.evidence_details.submission_count == 1
    assert submitted.evidence.customer_name == "Ada" and submitted.evidence.uncategorized_text == "Delivered."
    assert unknown[0] == 400 and unknown[1]["error"]["param"] == "evidence[nonsense]"
    assert closed.status == "lost"
    assert again[0] == 400
    assert [e["data"]["object"]["id"] for e in stripe_local.events("charge.dispute.closed")] == [other.id]
    assert len(stripe_local.events("charge.dispute.updated")) == 3


@pytest.mark.parametrize(
    ("action", "status", "transition", "event"),
    [
        ("void", "void", "voided_at", "invoice.voided"),
        ("mark_uncollectible", "uncollectible", "marked_uncollectible_at", "invoice.marked_uncollectible"),
    ],
)
def test_an_open_invoice_can_be_closed_unpaid_once(stripe_local, action, status, transition, event):
    customer, _ = customer_with_card()
    stripe.InvoiceItem.create(customer=customer.id, amount=500, currency="usd")
    invoice = stripe.Invoice.create(
        customer=customer.id, auto_advance=False, pending_invoice_items_behavior="include"
    )
    stripe.Invoice.finalize_invoice(invoice.id, auto_advance=False)

    code, closed, _ = raw(stripe_local, "POST", f"/v1/invoices/{invoice.id}/{action}")
    assert code == 200
    assert closed["status"] == status
    assert closed["next_payment_attempt"] is None
    assert closed["status_transitions"][transition] is not None
    assert event in [e.type for e in stripe.Event.list(limit=100).data]

    code, body, _ = raw(stripe_local, "POST", f"/v1/invoices/{invoice.id}/{action}")
    assert code == 400
    assert body["error"]["code"] == "invoice_not_editable"
