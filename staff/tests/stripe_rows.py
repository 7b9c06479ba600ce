"""dj-stripe rows written directly, as dj-stripe's sync would leave them, for the dashboard's
hand-computed fixtures (the figures read only the synced tables, never Stripe)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from djstripe.models import Charge, Customer, Dispute, Invoice, Price, Product, Refund, Subscription

from accounts.models import User


def ts(value: datetime) -> int:
    return int(value.timestamp())


def product(name: str) -> Product:
    return Product.objects.create(
        id=f"prod_{name.lower()}", name=name, livemode=False, active=True, stripe_data={"name": name}
    )


def price(product_row: Product, *, cents: int, interval: str = "month") -> Price:
    pid = f"price_{product_row.name.lower()}_{interval}"
    data = {
        "id": pid,
        "unit_amount": cents,
        "currency": "usd",
        "recurring": {"interval": interval, "interval_count": 1},
    }
    return Price.objects.create(
        id=pid, product=product_row, livemode=False, active=True, currency="usd", stripe_data=data
    )


def customer(user: User) -> Customer:
    return Customer.objects.create(id=f"cus_{user.handle}", subscriber=user, livemode=False, stripe_data={})


def subscription(sub_id: str, cus: Customer, price_row: Price, *, status: str, **fields: Any) -> Subscription:
    data = {
        "id": sub_id,
        "status": status,
        "customer": cus.id,
        "items": {"data": [{"price": dict(price_row.stripe_data), "quantity": 1}]},
        **fields,
    }
    return Subscription.objects.create(id=sub_id, customer=cus, livemode=False, stripe_data=data)


def subscription_change(sub: Subscription, *, price_row: Price | None = None, **fields: Any) -> None:
    """What dj-stripe's sync does on ``customer.subscription.updated``: the row takes the new state."""
    data = dict(sub.stripe_data)
    if price_row is not None:
        data["items"] = {"data": [{"price": dict(price_row.stripe_data), "quantity": 1}]}
    data.update(fields)
    sub.stripe_data = data
    sub.save(update_fields=["stripe_data"])


def invoice_paid(inv_id: str, cus: Customer, *, cents: int, paid_at: datetime) -> Invoice:
    data = {
        "id": inv_id,
        "status": "paid",
        "total": cents,
        "amount_paid": cents,
        "currency": "usd",
        "status_transitions": {"paid_at": ts(paid_at)},
    }
    return Invoice.objects.create(id=inv_id, customer=cus, livemode=False, created=paid_at, stripe_data=data)


def charge(ch_id: str, cus: Customer, *, cents: int, status: str, created: datetime) -> Charge:
    return Charge.objects.create(
        id=ch_id,
        customer=cus,
        livemode=False,
        amount=cents,
        currency="usd",
        status=status,
        created=created,
        stripe_data={"id": ch_id, "amount": cents, "status": status},
    )


def refund(re_id: str, charge_row: Charge, *, cents: int, created: datetime) -> Refund:
    return Refund.objects.create(
        id=re_id,
        charge=charge_row,
        livemode=False,
        amount=cents,
        currency="usd",
        created=created,
        stripe_data={},
    )


def dispute(dp_id: str, charge_row: Charge, *, cents: int, created: datetime) -> Dispute:
    return Dispute.objects.create(
        id=dp_id, charge=charge_row, livemode=False, created=created, stripe_data={"amount": cents}
    )
