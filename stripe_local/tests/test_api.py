"""The stand-in's REST semantics and billing behaviour, through stripe-python and raw HTTP."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import stripe

from stripe_local.engine import Engine
from stripe_local.params import parse
from stripe_local.routes import customers_create
from stripe_local.server import Deliverer
from stripe_local.tests.helpers import customer_with_card, raw, recurring_price


def test_form_decoding_handles_nested_lists_and_expand():
    decoded = parse(
        "items[0][price]=p1&items[1][price]=p2&items[1][quantity]=2&expand[]=a&expand[]=b.c&metadata[k]=&x=1"
    )

    assert decoded == {
        "items": [{"price": "p1"}, {"price": "p2", "quantity": "2"}],
        "expand": ["a", "b.c"],
        "metadata": {"k": ""},
        "x": "1",
    }


@pytest.mark.parametrize("key", [None, "sk_test_short", "sk_live_localstandin000000000000000000", "nonsense"])
def test_missing_or_malformed_key_is_401(stripe_local, key):
    status, body, _ = raw(stripe_local, "GET", "/v1/customers", key=key)

    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert set(body["error"]) >= {"type", "code", "message", "param"}


def test_error_shapes_for_unknown_missing_and_missing_resources(stripe_local):
    unknown = raw(stripe_local, "POST", "/v1/customers", {"colour": "red"})
    missing = raw(stripe_local, "POST", "/v1/prices", {"currency": "usd"})
    absent = raw(stripe_local, "GET", "/v1/customers/cus_nope")
    route = raw(stripe_local, "GET", "/v1/nothing_here")

    assert (
        unknown[0] == 400
        and unknown[1]["error"]["code"] == "parameter_unknown"
        and unknown[1]["error"]["param"] == "colour"
    )
    assert missing[0] == 400 and missing[1]["error"]["code"] == "parameter_missing"
    assert absent[0] == 404 and absent[1]["error"] == {
        **absent[1]["error"],
        "code": "resource_missing",
        "param": "id",
        "type": "invalid_request_error",
    }
    assert route[0] == 404 and route[1]["error"]["type"] == "invalid_request_error"


def test_a_refused_request_changes_nothing(stripe_local):
    status, _, _ = raw(
        stripe_local,
        "POST",
        "/v1/customers",
        {"email": "x@example.com", "invoice_settings[default_payment_method]": "pm_missing"},
    )

    assert status == 404
    assert stripe.Customer.list().data == []
    assert stripe_local.events() == []


def test_stripe_version_header_is_echoed(stripe_local):
    _, _, headers = raw(stripe_local, "GET", "/v1/account", headers={"Stripe-Version": "2025-02-24.acacia"})

    assert headers["Stripe-Version"] == "2025-02-24.acacia"
    assert headers["Request-Id"].startswith("req_")


def test_idempotency_key_replays_and_refuses_other_params(stripe_local):
    first = raw(
        stripe_local, "POST", "/v1/customers", {"email": "i@example.com"}, headers={"Idempotency-Key": "k1"}
    )
    again = raw(
        stripe_local, "POST", "/v1/customers", {"email": "i@example.com"}, headers={"Idempotency-Key": "k1"}
    )
    other = raw(
        stripe_local, "POST", "/v1/customers", {"email": "j@example.com"}, headers={"Idempotency-Key": "k1"}
    )

    assert first[1]["id"] == again[1]["id"]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert other[0] == 400 and other[1]["error"]["type"] == "idempotency_error"
    assert len(stripe.Customer.list().data) == 1


def test_list_pagination(stripe_local):
    ids = [stripe.Customer.create(email=f"p{i}@example.com").id for i in range(5)]

    first = stripe.Customer.list(limit=2)
    second = stripe.Customer.list(limit=2, starting_after=first.data[-1].id)
    back = stripe.Customer.list(limit=2, ending_before=second.data[0].id)
    everyone = [c.id for c in stripe.Customer.list(limit=2).auto_paging_iter()]

    assert (
        [c.id for c in first.data] == ids[::-1][:2]
        and first.has_more is True
        and first.url == "/v1/customers"
    )
    assert [c.id for c in second.data] == ids[::-1][2:4]
    assert [c.id for c in back.data] == [c.id for c in first.data]
    assert everyone == ids[::-1]
    assert raw(stripe_local, "GET", "/v1/customers", {"limit": "0"})[0] == 400
    assert raw(stripe_local, "GET", "/v1/customers", {"starting_after": "cus_nope"})[0] == 404


def test_customer_search_and_email_filter(stripe_local):
    wanted = stripe.Customer.create(email="find.me@example.com", metadata={"user_id": "42"})
    stripe.Customer.create(email="other@example.com")

    by_email = stripe.Customer.search(query="email:'find.me@example.com'")
    by_metadata = stripe.Customer.search(query="metadata['user_id']:'42'")
    listed = stripe.Customer.list(email="find.me@example.com")

    assert [c.id for c in by_email.data] == [wanted.id]
    assert by_email.object == "search_result"
    assert [c.id for c in by_metadata.data] == [wanted.id]
    assert [c.id for c in listed.data] == [wanted.id]


def test_prices_by_lookup_key_and_transfer(stripe_local):
    old = stripe.Price.create(
        product=stripe.Product.create(name="A").id, currency="usd", unit_amount=500, lookup_key="basic"
    )
    status, body, _ = raw(
        stripe_local,
        "POST",
        "/v1/prices",
        {"product": old.product, "currency": "usd", "unit_amount": "600", "lookup_key": "basic"},
    )
    new = stripe.Price.create(
        product=old.product, currency="usd", unit_amount=600, lookup_key="basic", transfer_lookup_key=True
    )

    assert status == 400 and body["error"]["code"] == "lookup_key_already_exists"
    assert [p.id for p in stripe.Price.list(lookup_keys=["basic"]).data] == [new.id]
    assert stripe.Price.retrieve(old.id).lookup_key is None


def test_product_features_list(stripe_local):
    product = stripe.Product.create(name="Pro")
    feature = stripe.entitlements.Feature.create(name="API", lookup_key="api")
    stripe.Product.create_feature(product.id, entitlement_feature=feature.id)

    listed = stripe.Product.list_features(product.id)

    assert [f.entitlement_feature.lookup_key for f in listed.data] == ["api"]


def test_customer_balance_transactions(stripe_local):
    customer = stripe.Customer.create(email="b@example.com")

    txn = stripe.Customer.create_balance_transaction(
        customer.id, amount=-500, currency="usd", description="Referral"
    )

    assert txn.ending_balance == -500
    assert stripe.Customer.retrieve(customer.id).balance == -500
    assert [t.id for t in stripe.Customer.list_balance_transactions(customer.id).data] == [txn.id]


# --- payment methods and subscriptions --------------------------------------------------------
def test_attaching_the_declined_card_is_402(stripe_local):
    customer = stripe.Customer.create(email="d@example.com")

    with pytest.raises(stripe.CardError) as error:
        stripe.PaymentMethod.attach("pm_card_chargeDeclined", customer=customer.id)

    assert error.value.http_status == 402
    assert error.value.code == "card_declined"
    assert stripe.PaymentMethod.list(customer=customer.id).data == []


def test_subscription_create_charges_and_expands(stripe_local):
    customer, _ = customer_with_card()
    price = recurring_price()

    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": price.id}], expand=["latest_invoice.payment_intent"]
    )

    assert sub.status == "active"
    assert sub.latest_invoice.status == "paid"
    assert sub.latest_invoice.payment_intent.status == "succeeded"
    assert sub.current_period_end > sub.current_period_start
    charge = stripe.Charge.retrieve(
        sub.latest_invoice.payment_intent.latest_charge, expand=["balance_transaction"]
    )
    assert charge.balance_transaction.status == "pending" and charge.balance_transaction.net == 1000 - 59
    stripe_local.advance(days=3)
    assert stripe.BalanceTransaction.retrieve(charge.balance_transaction.id).status == "available"


def test_subscription_with_failing_card_is_incomplete_or_refused(stripe_local):
    customer, _ = customer_with_card("pm_card_chargeCustomerFail")
    price = recurring_price()

    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": price.id}])
    with pytest.raises(stripe.CardError):
        stripe.Subscription.create(
            customer=customer.id, items=[{"price": price.id}], payment_behavior="error_if_incomplete"
        )

    assert sub.status == "incomplete"
    assert stripe.Invoice.retrieve(sub.latest_invoice).status == "open"
    stripe_local.advance(days=1)
    assert stripe.Subscription.retrieve(sub.id).status == "incomplete_expired"


def test_default_incomplete_then_pay_the_invoice(stripe_local):
    customer, pm = customer_with_card()
    price = recurring_price()
    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": price.id}],
        payment_behavior="default_incomplete",
        expand=["latest_invoice.payment_intent"],
    )
    assert sub.status == "incomplete"
    assert sub.latest_invoice.payment_intent.client_secret

    stripe.Invoice.pay(sub.latest_invoice.id, payment_method=pm)

    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_price_change_with_prorations_shows_in_upcoming_and_next_invoice(stripe_local):
    customer, _ = customer_with_card()
    cheap, dear = recurring_price(1000), recurring_price(3000)
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": cheap.id}])
    stripe_local.advance(days=15)

    preview = stripe.Invoice.create_preview(
        customer=customer.id,
        subscription=sub.id,
        subscription_details={"items": [{"id": sub["items"].data[0].id, "price": dear.id}]},
    )
    updated = stripe.Subscription.modify(sub.id, items=[{"id": sub["items"].data[0].id, "price": dear.id}])
    stripe_local.advance(days=20)
    renewal = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub.id).latest_invoice)

    prorations = [line for line in preview.lines.data if line.proration]
    assert len(prorations) == 2 and prorations[0].amount < 0 < prorations[1].amount
    assert updated["items"].data[0].price.id == dear.id
    assert renewal.billing_reason == "subscription_cycle"
    assert [line.proration for line in renewal.lines.data] == [True, True, False]
    assert renewal.total == sum(line.amount for line in preview.lines.data)
    assert renewal.status == "paid"


def test_no_proration_and_always_invoice(stripe_local):
    customer, _ = customer_with_card()
    cheap, dear = recurring_price(1000), recurring_price(3000)
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": cheap.id}])
    item = sub["items"].data[0].id
    stripe_local.advance(days=10)

    stripe.Subscription.modify(sub.id, items=[{"id": item, "price": dear.id}], proration_behavior="none")
    assert stripe.InvoiceItem.list(customer=customer.id, pending=True).data == []
    stripe.Subscription.modify(
        sub.id, items=[{"id": item, "price": cheap.id}], proration_behavior="always_invoice"
    )

    latest = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub.id).latest_invoice)
    assert latest.billing_reason == "subscription_update"
    assert latest.total < 0 and latest.amount_due == 0
    assert stripe.Customer.retrieve(customer.id).balance == latest.total


def test_cancel_at_period_end_then_resume_then_cancel_now(stripe_local):
    customer, _ = customer_with_card()
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price().id}])

    scheduled = stripe.Subscription.modify(sub.id, cancel_at_period_end=True)
    resumed = stripe.Subscription.modify(sub.id, cancel_at_period_end=False)
    canceled = stripe.Subscription.cancel(sub.id)

    assert scheduled.cancel_at == sub.current_period_end and scheduled.status == "active"
    assert resumed.cancel_at is None and resumed.cancel_at_period_end is False
    assert canceled.status == "canceled" and canceled.ended_at == stripe_local.now
    updated = [e for e in stripe_local.events("customer.subscription.updated")]
    assert updated[0]["data"]["previous_attributes"]["cancel_at_period_end"] is False
    assert stripe_local.events("customer.subscription.deleted")[0]["data"]["object"]["status"] == "canceled"


def test_trial_via_api_emits_trial_will_end_and_converts(stripe_local):
    customer, _ = customer_with_card()
    sub = stripe.Subscription.create(
        customer=customer.id, items=[{"price": recurring_price().id}], trial_period_days=7
    )

    events = stripe_local.advance(days=5)
    converted = stripe_local.advance(days=3)

    assert sub.status == "trialing" and sub.trial_end == sub.current_period_end
    assert "customer.subscription.trial_will_end" in [e["type"] for e in events]
    assert stripe.Subscription.retrieve(sub.id).status == "active"
    assert "invoice.paid" in [e["type"] for e in converted]


def test_dunning_can_end_unpaid(stripe_local):
    raw(stripe_local, "POST", "/_local/settings", {"dunning_final_status": "unpaid"})
    customer, pm = customer_with_card()
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price().id}])
    failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer.id)
    stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": failing.id})

    stripe_local.advance(days=32)
    assert stripe.Subscription.retrieve(sub.id).status == "past_due"
    stripe_local.advance(days=20)

    assert stripe.Subscription.retrieve(sub.id).status == "unpaid"
    assert [e["data"]["object"]["attempt_count"] for e in stripe_local.events("invoice.payment_failed")] == [
        1,
        2,
        3,
        4,
    ]


def test_coupon_and_promotion_code_discount_invoices(stripe_local):
    customer, _ = customer_with_card()
    coupon = stripe.Coupon.create(percent_off=50, duration="once")
    promo = stripe.PromotionCode.create(coupon=coupon.id, code="HALF")

    sub = stripe.Subscription.create(
        customer=customer.id,
        items=[{"price": recurring_price(2000).id}],
        discounts=[{"promotion_code": promo.id}],
    )
    stripe_local.advance(days=32)

    first = stripe.Invoice.retrieve(sub.latest_invoice, expand=["discounts"])
    second = stripe.Invoice.retrieve(stripe.Subscription.retrieve(sub.id).latest_invoice)
    assert first.total == 1000 and first.discounts[0].coupon.id == coupon.id
    assert second.total == 2000
    assert stripe.PromotionCode.retrieve(promo.id).times_redeemed == 1


def test_customer_credit_is_applied_to_the_next_invoice(stripe_local):
    customer, _ = customer_with_card()
    stripe.Customer.create_balance_transaction(customer.id, amount=-400, currency="usd")

    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(1000).id}])

    invoice = stripe.Invoice.retrieve(sub.latest_invoice)
    assert invoice.total == 1000 and invoice.amount_due == 600 and invoice.amount_paid == 600
    assert invoice.starting_balance == -400 and invoice.ending_balance == 0
    assert stripe.Customer.retrieve(customer.id).balance == 0


def test_refund_and_credit_note(stripe_local):
    customer, _ = customer_with_card()
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(1000).id}])
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)

    refund = stripe.Refund.create(charge=invoice.charge, amount=300)
    note = stripe.CreditNote.create(invoice=invoice.id, amount=200)
    too_much = raw(stripe_local, "POST", "/v1/refunds", {"charge": invoice.charge, "amount": "5000"})

    assert refund.status == "succeeded"
    assert stripe.Charge.retrieve(invoice.charge).amount_refunded == 300
    assert note.type == "post_payment" and stripe.Customer.retrieve(customer.id).balance == -200
    assert too_much[0] == 400


def test_hosted_invoice_page_and_pdf(stripe_local):
    customer, _ = customer_with_card("pm_card_chargeCustomerFail")
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(1000).id}])
    invoice = stripe.Invoice.retrieve(sub.latest_invoice)

    page = stripe_local.page(invoice.hosted_invoice_url)
    pdf = stripe_local.page(invoice.invoice_pdf)
    paid = stripe_local.page(
        invoice.hosted_invoice_url, {"card_number": "4242424242424242", "exp": "12/34", "cvc": "123"}
    )

    assert page.status == 200 and "$10.00" in page.text
    assert pdf.status == 200 and pdf.text.startswith("%PDF-")
    assert paid.status == 303
    assert stripe.Invoice.retrieve(invoice.id).status == "paid"
    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_checkout_with_a_promotion_code_and_expired_session(stripe_local):
    price = recurring_price(2000)
    coupon = stripe.Coupon.create(amount_off=500, currency="usd", duration="forever")
    stripe.PromotionCode.create(coupon=coupon.id, code="FIVE")
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": price.id, "quantity": 1}],
        allow_promotion_codes=True,
        success_url="http://testserver/ok",
        customer_email="promo@example.com",
    )

    bad = stripe_local.pay_checkout(session, promotion_code="NOPE")
    good = stripe_local.pay_checkout(session, promotion_code="five")

    assert bad.status == 400 and "This code is invalid." in bad.text
    assert good.status == 303
    done = stripe.checkout.Session.retrieve(session.id)
    assert done.amount_total == 1500 and done.total_details.amount_discount == 500
    assert stripe.Customer.retrieve(done.customer).email == "promo@example.com"
    late = stripe.checkout.Session.create(
        mode="subscription", line_items=[{"price": price.id}], success_url="http://testserver/ok"
    )
    stripe_local.advance(days=2)
    assert stripe.checkout.Session.retrieve(late.id).status == "expired"


# --- events and webhooks ----------------------------------------------------------------------
def test_events_list_retrieve_and_signed_deliveries(stripe_local):
    endpoint = stripe.WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook", enabled_events=["customer.created"]
    )
    customer = stripe.Customer.create(email="e@example.com")
    stripe.Customer.modify(customer.id, name="E")

    created = stripe.Event.list(type="customer.created").data[0]
    updated = stripe.Event.retrieve(stripe.Event.list(type="customer.updated").data[0].id)
    [delivery] = stripe_local.pending_deliveries()
    _, payload, headers = stripe_local.engine.signed_delivery(delivery)
    verified = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], endpoint.secret)

    assert endpoint.secret.startswith("whsec_")
    assert created.data.object.id == customer.id and created.api_version == "2025-02-24.acacia"
    assert updated.data.previous_attributes.name is None
    assert verified.id == created.id


def test_background_delivery_retries_until_the_endpoint_answers(stripe_local):
    received: list[tuple[str, bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Stripe-Signature"], body))
            self.send_response(500 if len(received) == 1 else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    raw(stripe_local, "POST", "/_local/settings", {"webhook_retry_base": "0.05"})
    endpoint = stripe.WebhookEndpoint.create(
        url=f"http://127.0.0.1:{hook.server_address[1]}/hook", enabled_events=["*"]
    )
    deliverer = Deliverer(stripe_local.engine)
    deliverer.start()
    try:
        stripe.Customer.create(email="w@example.com")
        for _ in range(100):
            if len(received) >= 2 and not stripe_local.pending_deliveries():
                break
            threading.Event().wait(0.05)
    finally:
        deliverer.stop()
        stripe_local.engine.on_delivery = None
        hook.shutdown()

    assert len(received) == 2
    assert received[0][1] == received[1][1]
    event = stripe.Webhook.construct_event(received[1][1], received[1][0], endpoint.secret)
    assert event.type == "customer.created"
    assert stripe.Event.retrieve(event.id).pending_webhooks == 0


def test_local_control_endpoints(stripe_local):
    start = stripe_local.now
    stripe.Customer.create(email="r@example.com")

    moved = raw(stripe_local, "POST", "/_local/advance", {"days": "2"})
    backwards = raw(stripe_local, "POST", "/_local/advance", {"to": str(start)})
    reset = raw(stripe_local, "POST", "/_local/reset")

    assert moved[1]["now"] == start + 2 * 86400
    assert backwards[0] == 400
    assert reset[0] == 200 and stripe.Customer.list().data == []


def test_state_persists_across_restarts(tmp_path):
    path = str(tmp_path / "state.json")
    engine = Engine(state_path=path)
    customer = customers_create(engine, {"email": "keep@example.com"})
    engine.advance(to=engine.now + 3600)
    engine.save()

    again = Engine(state_path=path)

    assert again.now == engine.now
    assert again.get("customer", customer["id"])["email"] == "keep@example.com"
    assert customers_create(again, {})["id"] != customer["id"]


def test_hosted_pages_refuse_unknown_links_and_actions(stripe_local):
    customer = stripe.Customer.create(email="p@example.com")
    portal = stripe.billing_portal.Session.create(customer=customer.id)

    assert stripe_local.page(stripe_local.base_url + "/c/pay/cs_test_nope").status == 404
    assert stripe_local.page(stripe_local.base_url + "/p/session/nope").status == 404
    assert stripe_local.page(stripe_local.base_url + "/i/in_nope").status == 404
    assert stripe_local.page(stripe_local.base_url + "/nowhere").status == 404
    unknown = stripe_local.portal(portal.url, "explode")
    someone_elses = stripe_local.portal(portal.url, "cancel", subscription="sub_nope")
    bad_expiry = stripe_local.portal(portal.url, "card", card_number="4242424242424242", exp="13/99")

    assert unknown.status == 400 and "Unknown action." in unknown.text
    assert someone_elses.status == 404
    assert bad_expiry.status == 402 and "expiration" in bad_expiry.text
    assert stripe.PaymentMethod.list(customer=customer.id).data == []


def test_checkout_with_a_coupon_in_discounts(stripe_local):
    coupon = stripe.Coupon.create(percent_off=20, duration="forever")
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": recurring_price(1000).id, "quantity": 2}],
        discounts=[{"coupon": coupon.id}],
        success_url="http://testserver/ok?id={CHECKOUT_SESSION_ID}",
        metadata={"user": "9"},
        subscription_data={"metadata": {"user": "9"}},
    )

    paid = stripe_local.pay_checkout(session)

    done = stripe.checkout.Session.retrieve(session.id, expand=["subscription.latest_invoice"])
    assert paid.location == f"http://testserver/ok?id={session.id}"
    assert done.amount_subtotal == 2000 and done.amount_total == 1600
    assert done.subscription.metadata.to_dict() == {"user": "9"}
    assert done.subscription.latest_invoice.total == 1600
    assert done.subscription["items"].data[0].quantity == 2
    both = raw(
        stripe_local,
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "line_items[0][price]": done.subscription["items"].data[0].price.id,
            "success_url": "http://x",
            "allow_promotion_codes": "true",
            "discounts[0][coupon]": coupon.id,
        },
    )
    assert both[0] == 400


def test_checkout_with_a_coupon_shows_the_discounted_total_before_paying(stripe_local):
    coupon = stripe.Coupon.create(percent_off=20, duration="once")
    session = stripe.checkout.Session.create(
        mode="subscription",
        line_items=[{"price": recurring_price(2400).id}],
        discounts=[{"coupon": coupon.id}],
        success_url="http://testserver/ok",
    )

    assert session.amount_subtotal == 2400 and session.amount_total == 1920
    assert session.total_details.amount_discount == 480
    with urllib.request.urlopen(session.url) as response:  # noqa: S310 (the local stand-in)
        page = response.read().decode()
    assert "Total due today: $19.20" in page and "Discount" in page


def test_checkout_in_payment_mode(stripe_local):
    price = stripe.Price.create(
        product=stripe.Product.create(name="Credits").id, currency="usd", unit_amount=500
    )
    session = stripe.checkout.Session.create(
        mode="payment", line_items=[{"price": price.id, "quantity": 3}], success_url="http://testserver/ok"
    )

    assert stripe_local.pay_checkout(session).status == 303

    done = stripe.checkout.Session.retrieve(session.id, expand=["payment_intent"])
    assert done.payment_status == "paid" and done.payment_intent.amount == 1500
    assert done.payment_intent.status == "succeeded"
    recurring = raw(
        stripe_local,
        "POST",
        "/v1/checkout/sessions",
        {"mode": "payment", "line_items[0][price]": recurring_price().id, "success_url": "http://x"},
    )
    assert recurring[0] == 400 and recurring[1]["error"]["param"] == "line_items[0][price]"


def test_customer_coupon_discounts_subscription_invoices(stripe_local):
    coupon = stripe.Coupon.create(amount_off=300, currency="usd", duration="repeating", duration_in_months=2)
    customer, _ = customer_with_card()
    stripe.Customer.modify(customer.id, coupon=coupon.id)

    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price(1000).id}])
    stripe_local.advance(days=31)
    stripe_local.advance(days=31)

    totals = [i.total for i in stripe.Invoice.list(customer=customer.id).data][::-1]
    assert stripe.Customer.retrieve(customer.id).discount.coupon.id == coupon.id
    assert totals == [700, 700, 1000]
    assert stripe.Subscription.retrieve(sub.id).status == "active"


def test_setup_intent_saves_a_card_or_reports_the_decline(stripe_local):
    customer = stripe.Customer.create(email="s@example.com")

    saved = stripe.SetupIntent.create(customer=customer.id, payment_method="pm_card_visa", confirm=True)
    pending = stripe.SetupIntent.create(customer=customer.id)
    with pytest.raises(stripe.CardError) as declined:
        stripe.SetupIntent.confirm(pending.id, payment_method="pm_card_chargeDeclined")

    assert saved.status == "succeeded"
    assert stripe.PaymentMethod.retrieve(saved.payment_method).customer == customer.id
    assert declined.value.code == "card_declined"
    assert stripe.SetupIntent.retrieve(pending.id).last_setup_error.code == "card_declined"
    assert [pm.id for pm in stripe.PaymentMethod.list(customer=customer.id).data] == [saved.payment_method]


def test_concurrent_retries_with_one_idempotency_key_create_one_object(stripe_local):
    results: list[str] = []

    def call() -> None:
        results.append(
            raw(
                stripe_local,
                "POST",
                "/v1/customers",
                {"email": "race@example.com"},
                headers={"Idempotency-Key": "race"},
            )[1]["id"]
        )

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 1 and len(results) == 8
    assert len(stripe.Customer.list().data) == 1


def test_test_clocks_move_the_shared_clock(stripe_local):
    customer, _ = customer_with_card()
    sub = stripe.Subscription.create(customer=customer.id, items=[{"price": recurring_price().id}])
    clock = stripe.test_helpers.TestClock.create(frozen_time=stripe_local.now, name="renewals")

    advanced = stripe.test_helpers.TestClock.advance(clock.id, frozen_time=sub.current_period_end + 60)

    assert advanced.status == "ready" and advanced.frozen_time == stripe_local.now
    assert stripe.Subscription.retrieve(sub.id).current_period_start == sub.current_period_end
    assert (
        raw(stripe_local, "POST", f"/v1/test_helpers/test_clocks/{clock.id}/advance", {"frozen_time": "1"})[0]
        == 400
    )
    assert stripe.test_helpers.TestClock.delete(clock.id).deleted is True


def test_trial_without_a_card_when_the_session_allows_it(stripe_local):
    price = recurring_price()

    def session(**extra):
        return stripe.checkout.Session.create(
            mode="subscription",
            line_items=[{"price": price.id}],
            success_url="http://testserver/ok",
            customer_email="nocard@example.com",
            **extra,
        )

    required = stripe_local.pay_checkout(session(subscription_data={"trial_period_days": 7}), card="", exp="")
    free = session(payment_method_collection="if_required", subscription_data={"trial_period_days": 7})
    page = stripe_local.page(free.url)
    started = stripe_local.pay_checkout(free, card="", exp="")
    cancels = session(
        payment_method_collection="if_required",
        subscription_data={
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}},
        },
    )
    stripe_local.pay_checkout(cancels, card="", exp="")

    assert required.status == 402 and "incomplete" in required.text
    assert "No card needed" in page.text
    assert started.status == 303
    invoiced = stripe.checkout.Session.retrieve(free.id).subscription
    canceled = stripe.checkout.Session.retrieve(cancels.id).subscription
    assert stripe.Subscription.retrieve(invoiced).status == "trialing"
    stripe_local.advance(days=8)
    assert stripe.Subscription.retrieve(invoiced).status == "past_due"
    assert stripe.Subscription.retrieve(canceled).status == "canceled"


def test_unsupported_subscription_parameters_are_refused_not_ignored(stripe_local):
    customer, _ = customer_with_card()
    price = recurring_price()

    invoiced = raw(
        stripe_local,
        "POST",
        "/v1/subscriptions",
        {"customer": customer.id, "items[0][price]": price.id, "collection_method": "send_invoice"},
    )
    taxed = raw(
        stripe_local,
        "POST",
        "/v1/subscriptions",
        {"customer": customer.id, "items[0][price]": price.id, "automatic_tax[enabled]": "true"},
    )

    assert invoiced[0] == 400 and invoiced[1]["error"]["param"] == "collection_method"
    assert taxed[0] == 400 and taxed[1]["error"]["param"] == "automatic_tax[enabled]"
    assert stripe.Subscription.list().data == []


# --- disputes ---------------------------------------------------------------------------------
