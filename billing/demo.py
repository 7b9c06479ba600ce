"""Demo data for billing: alice gets an active Pro subscription through the Stripe stand-in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from djstripe.models import Customer, Invoice, Price, Subscription

from billing.customers import customer_get_or_create
from billing.entitlements import entitlements_invalidate
from billing.selectors import subscription_get_live_for_user

if TYPE_CHECKING:
    from accounts.models import User


def seed(*, users: list[User], stdout: Any) -> None:
    """Idempotent; skipped (with a message) when the stand-in is not in use or not reachable."""
    alice = next((u for u in users if u.handle == "alice"), None)
    if alice is None:
        return
    if not settings.STRIPE_USE_LOCAL:
        stdout.write("billing: not using the Stripe stand-in; no demo subscription created.")
        return
    if subscription_get_live_for_user(user=alice) is not None:
        stdout.write("billing: alice already has a subscription.")
        return
    price = Price.objects.filter(lookup_key="pro_monthly", active=True).first()
    if price is None:
        stdout.write("billing: no Pro price synced (run billing_setup_local); skipped.")
        return
    try:
        customer = customer_get_or_create(user=alice)
        card = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
        Customer.sync_from_stripe_data(
            stripe.Customer.modify(customer.id, invoice_settings={"default_payment_method": card.id})
        )
        created = stripe.Subscription.create(
            customer=customer.id,
            items=[{"price": price.id}],
            default_payment_method=card.id,
            metadata={"user_id": str(alice.pk), "plan": "pro"},
        )
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        stdout.write(f"billing: the Stripe stand-in is not reachable ({exc.__class__.__name__}); skipped.")
        return
    except Exception as exc:  # noqa: BLE001 - the demo must not stop seeding the other apps
        stdout.write(f"billing: could not create alice's demo subscription: {exc}")
        return
    # Sync now rather than wait for the webhooks (the web server may not be up yet).
    subscription = Subscription.sync_from_stripe_data(created)
    for invoice in stripe.Invoice.list(customer=customer.id, limit=10).auto_paging_iter():
        Invoice.sync_from_stripe_data(invoice)
    entitlements_invalidate(user_id=alice.pk)
    stdout.write(f"billing: alice is on Pro ({subscription.id}).")
