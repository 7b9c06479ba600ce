"""What the billing pages and API show: plain dicts built from the selectors, in one place each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from billing.entitlements import entitlements_get_for_user
from billing.selectors import (
    customer_get_for_user,
    grace_period_end_get,
    payment_method_get_for_user,
    plan_list_on_sale,
    subscription_get_current_for_user,
    subscription_item,
    subscription_plan,
    subscription_status,
)
from billing.statuses import GRACE_STATUS, LIVE_STATUSES

if TYPE_CHECKING:
    from djstripe.models import Invoice

    from accounts.models import User


def invoice_present(invoice: Invoice) -> dict[str, Any]:
    """What the user sees of an invoice."""
    data = invoice.stripe_data
    return {
        "id": invoice.id,
        "number": data.get("number") or "",
        "created": invoice.created,
        "total": int(data.get("total") or 0),
        "amount_due": int(data.get("amount_due") or 0),
        "amount_paid": int(data.get("amount_paid") or 0),
        "currency": str(data.get("currency") or "usd"),
        "status": str(data.get("status") or ""),
        "hosted_invoice_url": data.get("hosted_invoice_url") or "",
        "invoice_pdf": data.get("invoice_pdf") or "",
    }


def invoice_list_present(invoices: Sequence[Invoice]) -> list[dict[str, Any]]:
    return [invoice_present(invoice) for invoice in invoices]


def subscription_summary(*, user: User) -> dict[str, Any] | None:
    """The user's current subscription as shown on the billing page and by the API, or None."""
    subscription = subscription_get_current_for_user(user=user)
    if subscription is None:
        return None
    data = subscription.stripe_data
    status = subscription_status(subscription)
    item = subscription_item(subscription)
    price = item.get("price") or data.get("plan") or {}
    plan = subscription_plan(subscription)
    grace = None
    if status == GRACE_STATUS:
        grace = grace_period_end_get(user=user, subscription_id=subscription.id)
    return {
        "id": subscription.id,
        "status": status,
        "status_label": status.replace("_", " ").capitalize(),
        "plan": plan.code if plan else "",
        "plan_name": plan.name if plan else "",
        "price_id": price.get("id") if isinstance(price, dict) else str(price),
        "interval": ((price.get("recurring") or {}).get("interval") if isinstance(price, dict) else "") or "",
        "amount": int(price.get("unit_amount") or 0) if isinstance(price, dict) else 0,
        "currency": (price.get("currency") if isinstance(price, dict) else "") or "usd",
        "current_period_end": subscription.current_period_end,
        "cancel_at_period_end": bool(data.get("cancel_at_period_end")),
        "trial_end": subscription.trial_end if data.get("trial_end") else None,
        "grace_ends_at": grace,
        "is_live": status in LIVE_STATUSES,
    }


def billing_overview(*, user: User) -> dict[str, Any]:
    """Everything the billing settings page shows but its invoices (a page of them, by cursor:
    ``billing.views.billing_settings``)."""
    return {
        "summary": subscription_summary(user=user),
        "entitlements": entitlements_get_for_user(user=user),
        "payment_method": payment_method_get_for_user(user=user),
        "catalogue": [e for e in plan_list_on_sale() if e.product is not None],
        "has_customer": customer_get_for_user(user=user) is not None,
    }
