"""Staff money actions through the real admin: refunds, credit, cancel/resume, re-sync.

Each is a button on the object's admin page opening a form that asks for a reason; posting it
calls Stripe (the stand-in), records an audit entry and e-mails the user where they would expect
it. Each checks its own permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from django.contrib.auth.models import Permission
from djstripe.models import Charge, Customer, Subscription

from accounts.tests.admin_forms import form_data
from accounts.tests.factories import StaffUserFactory, UserFactory
from audit.models import AuditEntry
from billing.models import BillingNotification

pytestmark = pytest.mark.django_db


@dataclass
class Subscribed:
    user: Any
    customer: Customer
    subscription: Subscription
    charge: Charge


@pytest.fixture
def subscribed(billing, user, user_api_client) -> Subscribed:
    billing.checkout(user_api_client, "team_monthly")
    customer = Customer.objects.get(subscriber=user)
    return Subscribed(
        user=user,
        customer=customer,
        subscription=Subscription.objects.get(customer=customer),
        charge=Charge.objects.get(customer=customer),
    )


def staff_with(*codenames: str) -> Any:
    """A staff member (not a superuser) holding only these billing permissions, plus viewing."""
    staff = UserFactory(is_staff=True)
    view = Permission.objects.filter(
        content_type__app_label="djstripe",
        codename__in=["view_charge", "view_customer", "view_subscription", "view_invoice"],
    )
    staff.user_permissions.add(
        *view, *Permission.objects.filter(content_type__app_label="billing", codename__in=codenames)
    )
    return staff


def _url(kind: str, obj: Any, action: str = "change") -> str:
    return f"/admin/djstripe/{kind}/{obj.djstripe_id}/{action}/"


def post_form(client: Any, url: str, capture: Any, **fields: str) -> Any:
    """Opens the action's page, fills the form as a person would, and submits it."""
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    data = form_data(page.content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data.update({key: [value] for key, value in fields.items()})
    with capture(execute=True):
        return client.post(url, data, follow=True)


def emails_to(mailoutbox: list[Any], user: Any, word: str) -> list[Any]:
    return [m for m in mailoutbox if user.email in m.to and word in m.subject.lower()]


def test_partial_then_full_refund(billing, subscribed, client, mailoutbox):
    staff = staff_with("refund_charge")
    client.force_login(staff)
    page = client.get(_url("charge", subscribed.charge)).content.decode()
    assert _url("charge", subscribed.charge, "refund") in page  # the button

    done = post_form(
        client,
        _url("charge", subscribed.charge, "refund"),
        billing.capture,
        amount="5.00",
        reason="Outage on 1 Dec",
    )
    assert "Refunded $5.00 USD" in done.content.decode()
    assert stripe.Charge.retrieve(subscribed.charge.id).amount_refunded == 500
    entry = AuditEntry.objects.get(action="charge.refund")
    assert (
        entry.kind == AuditEntry.Kind.BILLING
        and entry.actor == staff
        and entry.target_user == subscribed.user
    )
    assert entry.reason == "Outage on 1 Dec" and entry.details["amount"] == 500
    refunds = emails_to(mailoutbox, subscribed.user, "refund")
    assert len(refunds) == 1 and "$5.00 USD" in refunds[0].body

    billing.deliver()  # charge.refunded arrives: the user is not told twice
    assert len(emails_to(mailoutbox, subscribed.user, "refund")) == 1

    post_form(client, _url("charge", subscribed.charge, "refund"), billing.capture, reason="Goodwill")
    remote = stripe.Charge.retrieve(subscribed.charge.id)
    assert remote.refunded and remote.amount_refunded == 2400
    assert "$19.00 USD" in emails_to(mailoutbox, subscribed.user, "refund")[-1].body
    # Nothing is left: no button, and the page answers 404.
    assert (
        _url("charge", subscribed.charge, "refund")
        not in client.get(_url("charge", subscribed.charge)).content.decode()
    )
    assert client.get(_url("charge", subscribed.charge, "refund")).status_code == 404


def test_refund_above_what_is_left_is_refused_on_the_form(billing, subscribed, client):
    client.force_login(staff_with("refund_charge"))
    response = post_form(
        client,
        _url("charge", subscribed.charge, "refund"),
        billing.capture,
        amount="25.00",
        reason="Too much",
    )
    assert "at most $24.00 USD" in response.content.decode()
    assert stripe.Charge.retrieve(subscribed.charge.id).amount_refunded == 0
    assert not AuditEntry.objects.filter(action="charge.refund").exists()


def test_a_double_submitted_refund_refunds_once(billing, subscribed, client):
    client.force_login(staff_with("refund_charge"))
    url = _url("charge", subscribed.charge, "refund")
    data = form_data(client.get(url).content.decode())
    data.update(amount=["3.00"], reason=["Twice"])
    with billing.capture(execute=True):
        client.post(url, data)
        client.post(url, data)
    assert stripe.Charge.retrieve(subscribed.charge.id).amount_refunded == 300


def test_credit_goes_to_the_stripe_balance_and_the_user_is_told(billing, subscribed, client, mailoutbox):
    staff = staff_with("credit_customer")
    client.force_login(staff)
    done = post_form(
        client, _url("customer", subscribed.customer, "credit"), billing.capture, amount="10", reason="Sorry"
    )
    assert "Credited $10.00 USD" in done.content.decode()
    assert stripe.Customer.retrieve(subscribed.customer.id).balance == -1000
    subscribed.customer.refresh_from_db()
    assert "$10.00 USD credit" in client.get("/admin/djstripe/customer/").content.decode()
    entry = AuditEntry.objects.get(action="customer.credit")
    assert (
        entry.target_user == subscribed.user and entry.reason == "Sorry" and entry.details["amount"] == 1000
    )
    (mail,) = emails_to(mailoutbox, subscribed.user, "credit")
    assert "$10.00 USD" in mail.body


def test_cancel_at_period_end_then_resume(billing, subscribed, client, mailoutbox):
    client.force_login(staff_with("cancel_subscription", "resume_subscription"))
    url = _url("subscription", subscribed.subscription)
    assert _url("subscription", subscribed.subscription, "resume") not in client.get(url).content.decode()

    post_form(
        client,
        _url("subscription", subscribed.subscription, "cancel"),
        billing.capture,
        reason="Asked by mail",
    )
    assert stripe.Subscription.retrieve(subscribed.subscription.id).cancel_at_period_end is True
    assert "ends at period end" in client.get("/admin/djstripe/subscription/").content.decode()
    (cancelled,) = emails_to(mailoutbox, subscribed.user, "cancelled")
    assert "will not renew" in cancelled.body
    assert AuditEntry.objects.get(action="subscription.cancel").details["when"] == "period_end"

    post_form(
        client,
        _url("subscription", subscribed.subscription, "resume"),
        billing.capture,
        reason="Changed mind",
    )
    assert stripe.Subscription.retrieve(subscribed.subscription.id).cancel_at_period_end is False
    assert len(emails_to(mailoutbox, subscribed.user, "renew")) == 1
    assert AuditEntry.objects.filter(action="subscription.resume", reason="Changed mind").exists()


def test_cancel_now_ends_paid_features(billing, subscribed, client, mailoutbox, user_api_client):
    client.force_login(staff_with("cancel_subscription"))
    post_form(
        client,
        _url("subscription", subscribed.subscription, "cancel"),
        billing.capture,
        when="now",
        reason="Fraud",
    )
    assert stripe.Subscription.retrieve(subscribed.subscription.id).status == "canceled"
    assert user_api_client.get("/api/v1/billing/subscription/").json().get("status") in (None, "canceled")
    assert "ended now" in emails_to(mailoutbox, subscribed.user, "cancelled")[0].body
    # A cancelled subscription offers neither action any more.
    assert client.get(_url("subscription", subscribed.subscription, "cancel")).status_code == 404


def test_resync_brings_back_what_a_missed_webhook_said(billing, subscribed, client):
    stripe.Subscription.modify(
        subscribed.subscription.id, cancel_at_period_end=True
    )  # webhook never delivered
    client.force_login(staff_with("resync_customer"))
    done = post_form(
        client, _url("customer", subscribed.customer, "resync"), billing.capture, reason="User says it ended"
    )
    assert "cancel_at_period_end: False -&gt; True" in done.content.decode()
    subscribed.subscription.refresh_from_db()
    assert subscribed.subscription.stripe_data["cancel_at_period_end"] is True
    entry = AuditEntry.objects.get(action="customer.resync")
    assert entry.target_user == subscribed.user and entry.details["changes"]


def test_a_reason_is_required(billing, subscribed, client):
    client.force_login(staff_with("credit_customer"))
    response = post_form(
        client, _url("customer", subscribed.customer, "credit"), billing.capture, amount="1", reason=" "
    )
    assert (
        "This field is required." in response.content.decode()
        or "Give a reason." in response.content.decode()
    )
    assert stripe.Customer.retrieve(subscribed.customer.id).balance == 0


ACTIONS = [
    ("charge", "charge", "refund", "refund_charge"),
    ("customer", "customer", "credit", "credit_customer"),
    ("customer", "customer", "resync", "resync_customer"),
    ("subscription", "subscription", "cancel", "cancel_subscription"),
]


@pytest.mark.parametrize(("kind", "attr", "action", "codename"), ACTIONS)
def test_each_action_needs_its_own_permission(billing, subscribed, client, kind, attr, action, codename):
    """A view-only staff member, and one holding every other billing permission, are refused."""
    others = [c for _, _, _, c in ACTIONS if c != codename]
    obj = getattr(subscribed, attr)
    for staff in (staff_with(), staff_with(*others)):
        client.force_login(staff)
        assert client.get(_url(kind, obj)).status_code == 200
        assert _url(kind, obj, action) not in client.get(_url(kind, obj)).content.decode()
        assert client.get(_url(kind, obj, action)).status_code == 403
        with billing.capture(execute=True):
            refused = client.post(
                _url(kind, obj, action), {"reason": "x", "amount": "1", "when": "now", "token": "a"}
            )
        assert refused.status_code == 403
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.BILLING).exists()
    assert stripe.Charge.retrieve(subscribed.charge.id).amount_refunded == 0
    assert stripe.Subscription.retrieve(subscribed.subscription.id).status == "active"
    assert not BillingNotification.objects.filter(kind=BillingNotification.Kind.REFUNDED).exists()


def test_superuser_can_take_every_action(billing, subscribed, client):
    client.force_login(StaffUserFactory())
    page = client.get(_url("charge", subscribed.charge)).content.decode()
    assert "Refund" in page
    customer_page = client.get(_url("customer", subscribed.customer)).content.decode()
    assert "Add credit" in customer_page and "Re-sync from Stripe" in customer_page
