"""The billing admin's lists and pages: human values, no local-only forms, CSV export, and
every action behind its own permission."""

from __future__ import annotations

import csv
import io
import re

import pytest
import stripe
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from djstripe.models import (
    BalanceTransaction,
    Charge,
    Customer,
    Invoice,
    Price,
    Refund,
    Subscription,
    WebhookEventTrigger,
)
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory, staff_member
from audit.models import AuditEntry
from billing.money import money_format

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(billing, user, user_api_client):
    billing.checkout(user_api_client, "team_monthly")
    return Customer.objects.get(subscriber=user)


@pytest.fixture
def superuser_client(client):
    client.force_login(StaffUserFactory())
    return client


def _staff(*codenames: str, app: str = "billing"):
    staff = UserFactory(is_staff=True)
    view = Permission.objects.filter(
        content_type__app_label="djstripe",
        codename__in=["view_subscription", "view_charge", "view_webhookeventtrigger"],
    )
    staff.user_permissions.add(
        *view, *Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
    )
    return staff


def test_invoice_amounts_read_in_currency_not_cents_as_dollars(paid, superuser_client):
    invoice = Invoice.objects.get(customer=paid)
    assert invoice.stripe_data["amount_paid"] == 2400
    assert str(invoice).endswith("for $24.00 USD (paid)")
    for url in ("/admin/djstripe/invoice/", f"/admin/djstripe/customer/{paid.djstripe_id}/change/"):
        body = superuser_client.get(url).content.decode()
        assert "$24.00 USD" in body and "$2,400.00" not in body and "2400" not in body


def test_subscription_list_shows_plan_status_and_amount(paid, user, superuser_client):
    body = superuser_client.get("/admin/djstripe/subscription/").content.decode()
    assert "Team" in body and "active" in body and "$24.00 USD / month" in body and user.email in body
    assert (
        "Team" not in superuser_client.get("/admin/djstripe/subscription/?status=canceled").content.decode()
    )


def test_subscription_list_query_count_does_not_grow(billing, paid, superuser_client):
    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            body = superuser_client.get("/admin/djstripe/subscription/").content.decode()
        return len(captured.captured_queries), body

    queries()  # the first page view of a session loads its permissions
    with_one, _ = queries()
    for _ in range(3):
        api = APIClient()
        api.force_login(UserFactory())
        billing.checkout(api, "pro_monthly")
    with_four, body = queries()
    assert body.count("$8.00 USD / month") == 3
    assert with_four == with_one


def test_payments_and_refunds_read_in_currency(billing, paid, superuser_client):
    import stripe

    charge = Charge.objects.get(customer=paid)
    stripe.Refund.create(charge=charge.id, amount=250)
    billing.deliver()
    charges = superuser_client.get("/admin/djstripe/charge/").content.decode()
    assert "$24.00 USD" in charges and "$2.50 USD" in charges
    refunds = superuser_client.get("/admin/djstripe/refund/").content.decode()
    assert "$2.50 USD" in refunds and "250" not in refunds.split("result_list")[1].split("</table>")[0]


@pytest.mark.parametrize(
    "model", ["refund", "subscription", "invoice", "charge", "customer", "dispute", "price", "product"]
)
def test_local_only_forms_are_not_offered(paid, superuser_client, model):
    assert superuser_client.get(f"/admin/djstripe/{model}/add/").status_code == 403
    assert (
        f"/admin/djstripe/{model}/add/"
        not in superuser_client.get(f"/admin/djstripe/{model}/").content.decode()
    )


def test_a_subscription_cannot_be_edited_locally(paid, superuser_client):
    subscription = Subscription.objects.get(customer=paid)
    url = f"/admin/djstripe/subscription/{subscription.djstripe_id}/change/"
    assert superuser_client.get(url).status_code == 200
    assert superuser_client.post(url, {"status": "canceled"}).status_code == 403


def test_djstripes_unchecked_action_route_is_gone(paid, client):
    """dj-stripe's confirm view cancelled subscriptions in Stripe for any staff member."""
    import stripe

    subscription = Subscription.objects.get(customer=paid)
    client.force_login(_staff())
    for prefix in ("subscription", "coupon"):
        response = client.post(
            f"/admin/djstripe/{prefix}/action/_cancel/subscription/",
            {"_selected_action": [subscription.djstripe_id]},
        )
        assert response.status_code in (302, 404)  # the admin's "no such object", not the view
    with pytest.raises(NoReverseMatch):
        reverse("admin:djstripe_custom_action", args=["_cancel", "subscription"])
    assert stripe.Subscription.retrieve(subscription.id).status == "active"
    actions = client.get("/admin/djstripe/subscription/").content.decode()
    assert (
        "_cancel" not in actions
        and "_resync_instances" not in actions
        and "_sync_all_instances" not in actions
    )


def _csv(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_subscriptions_and_payments_export_as_csv(paid, user, client):
    client.force_login(_staff("export_billing"))
    subscription = Subscription.objects.get(customer=paid)
    response = client.post(
        "/admin/djstripe/subscription/",
        {"action": "export_as_csv", "_selected_action": [subscription.djstripe_id]},
    )
    (row,) = _csv(response)
    assert row["id"] == subscription.id and row["plan"] == "Team" and row["status"] == "active"
    assert row["amount"] == "24.00" and row["currency"] == "usd" and row["interval"] == "month"
    assert user.email in row["user"]
    charge = Charge.objects.get(customer=paid)
    (payment,) = _csv(
        client.post(
            "/admin/djstripe/charge/", {"action": "export_as_csv", "_selected_action": [charge.djstripe_id]}
        )
    )
    assert payment["id"] == charge.id and payment["amount"] == "24.00" and payment["refunded"] == "0.00"
    # Both through the site-wide export, so both are in the audit log.
    assert sorted(AuditEntry.objects.filter(kind="export").values_list("action", flat=True)) == [
        "djstripe.charge.export_csv",
        "djstripe.subscription.export_csv",
    ]


def test_csv_export_needs_its_permission(paid, client):
    client.force_login(_staff())
    subscription = Subscription.objects.get(customer=paid)
    assert "export_as_csv" not in client.get("/admin/djstripe/subscription/").content.decode()
    response = client.post(
        "/admin/djstripe/subscription/",
        {"action": "export_as_csv", "_selected_action": [subscription.djstripe_id]},
    )
    assert not response.get("Content-Type", "").startswith("text/csv")


def test_reprocessing_webhooks_needs_its_permission(paid, client):
    trigger = WebhookEventTrigger.objects.first()
    client.force_login(_staff())
    listing = client.get("/admin/djstripe/webhookeventtrigger/")
    assert listing.status_code == 200 and "reprocess_failed" not in listing.content.decode()
    client.force_login(_staff("reprocess_webhook"))
    assert "reprocess_failed" in client.get("/admin/djstripe/webhookeventtrigger/").content.decode()
    response = client.post(
        "/admin/djstripe/webhookeventtrigger/",
        {"action": "reprocess_failed", "_selected_action": [trigger.pk]},
        follow=True,
    )
    assert "skipped 1" in response.content.decode()


def _field(page: str, name: str) -> str:
    """What an object's admin page shows in its read-only ``name`` row (tags stripped)."""
    match = re.search(rf'field-{name}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert match, f"no {name} on the page"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_stripe_object_pages_show_amounts_as_money(paid, client, billing):
    client.force_login(staff_member("Billing", permissions=["djstripe.view_balancetransaction"]))
    invoice = Invoice.objects.get(customer=paid)
    charge = Charge.objects.get(customer=paid)
    subscription = Subscription.objects.get(customer=paid)
    price = Price.objects.get(id=subscription.stripe_data["items"]["data"][0]["price"]["id"])

    def page(model: str, obj) -> str:
        response = client.get(f"/admin/djstripe/{model}/{obj.djstripe_id}/change/")
        assert response.status_code == 200
        return response.content.decode()

    shown = page("invoice", invoice)
    for name in ("total", "subtotal", "amount_due", "amount_paid"):
        assert _field(shown, name) == "$24.00 USD", name
    shown = page("charge", charge)
    assert _field(shown, "amount") == "$24.00 USD"
    assert _field(shown, "amount_refunded") == "$0.00 USD"
    shown = page("subscription", subscription)
    assert _field(shown, "amount_label") == "$24.00 USD / month" and _field(shown, "plan_label") == "Team"
    assert _field(page("price", price), "unit_amount") == "$24.00 USD"

    # A partial refund, and the balance transactions Stripe recorded for the money.
    stripe.Refund.create(charge=charge.id, amount=550)
    billing.deliver()
    refund = Refund.objects.get(charge=charge)
    assert _field(page("refund", refund), "amount") == "$5.50 USD"
    charge.refresh_from_db()
    assert _field(page("charge", charge), "amount_refunded") == "$5.50 USD"
    for transaction in BalanceTransaction.objects.all():
        shown = page("balancetransaction", transaction)
        data = transaction.stripe_data
        assert _field(shown, "amount") == money_format(data["amount"], data["currency"])
        assert "USD" in _field(shown, "net")
