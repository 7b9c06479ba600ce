"""Two corrections to dj-stripe 2.11, applied once when the admin loads (``billing.admin``).

1. ``Invoice.__str__`` passes ``amount_paid`` (Stripe's minor units, 1920) to a helper that
   expects major units, so a $19.20 invoice reads "Invoice #… for $1,920.00 USD" everywhere its
   name appears: the invoice list, the customer's inline, the charge list's invoice column,
   foreign-key widgets, the audit log's object names. The string is rebuilt from minor units
   with ``billing.money``.
2. Every dj-stripe admin adds ``<model>/action/<name>/<model>/``, a confirmation view that runs
   ``_resync_instances``, ``_sync_all_instances`` or ``_cancel`` (cancelling subscriptions in
   Stripe) on any model it is given, for any staff member, checking no permission and recording
   nothing. The route and the actions are removed; the audited, permission-checked staff actions
   in ``billing.admin`` replace them.
"""

from __future__ import annotations

from typing import Any

from djstripe.admin.actions import CustomActionMixin
from djstripe.models import Invoice

from billing.money import money_format

_DJSTRIPE_ACTIONS = ("_resync_instances", "_sync_all_instances", "_cancel")


def invoice_label(invoice: Invoice) -> str:
    data = invoice.stripe_data or {}
    number = data.get("number") or data.get("receipt_number") or invoice.id
    amount = money_format(data.get("amount_paid") or 0, data.get("currency"))
    return f"Invoice #{number} for {amount} ({data.get('status') or 'unknown'})"


def _no_custom_action_urls(self: Any) -> Any:
    return super(CustomActionMixin, self).get_urls()


def _without_djstripe_actions(self: Any, request: Any) -> Any:
    actions = super(CustomActionMixin, self).get_actions(request)
    for name in _DJSTRIPE_ACTIONS:
        actions.pop(name, None)
    return actions


def install() -> None:
    """Idempotent."""
    Invoice.__str__ = invoice_label  # see 1. above
    CustomActionMixin.get_urls = _no_custom_action_urls  # see 2.
    CustomActionMixin.get_actions = _without_djstripe_actions  # see 2.
