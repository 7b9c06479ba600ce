"""Amounts on a Stripe object's admin page and lists read as money ("$24.00 USD"), not as Stripe's minor
units (2400) nor dj-stripe's bare decimals (24.00).

dj-stripe's admin page shows every field and property of the object raw. A ``BillingStripeAdmin``
names its amounts in ``money_fields``: each is shown from ``stripe_data[<name>]`` (always minor
units there) in the object's currency, in place of the raw field, or added to the page when
dj-stripe does not show it (an invoice's ``amount_paid``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.utils import flatten_fieldsets
from django.http import HttpRequest

from billing.money import money_format


def stripe_currency(obj: Any) -> str:
    """The object's currency: its own, else its price's (a subscription item), else USD."""
    data = getattr(obj, "stripe_data", None) or {}
    return str(data.get("currency") or getattr(obj, "currency", "") or "usd")


def money_display(name: str) -> Callable[[Any], str]:
    """A read-only page field named ``name`` showing ``stripe_data[name]`` as money ("—" if none)."""

    def show(obj: Any) -> str:
        data = getattr(obj, "stripe_data", None) or {}
        return money_format(data.get(name), stripe_currency(obj)) or "—"

    show.__name__ = name  # the row's CSS class on the object's page
    show.short_description = name.replace("_", " ")  # type: ignore[attr-defined]  # the admin's label
    return show


def stripe_text(name: str) -> Callable[[Any], str]:
    """A list column showing ``stripe_data[name]`` in words ("past_due" reads "past due")."""

    def show(obj: Any) -> str:
        data = getattr(obj, "stripe_data", None) or {}
        return str(data.get(name) or "").replace("_", " ")

    show.__name__ = name
    show.short_description = name.replace("_", " ")  # type: ignore[attr-defined]  # the admin's label
    return show


class MoneyFieldsMixin:
    """Put before the ModelAdmin; list the object's amounts in ``money_fields``."""

    money_fields: tuple[str, ...] = ()
    # Admin display methods added to the object's page (a subscription's plan and amount).
    detail_fields: tuple[str, ...] = ()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]  # ModelAdmin's
        if obj is None or not (self.money_fields or self.detail_fields):
            return fieldsets
        shown = {name: money_display(name) for name in self.money_fields}
        present = set(flatten_fieldsets(fieldsets))
        missing = [shown[n] for n in self.money_fields if n not in present]
        extra = [n for n in self.detail_fields if n not in present]
        result = []
        for index, (title, options) in enumerate(fieldsets):
            fields = [shown.get(f, f) if isinstance(f, str) else f for f in options["fields"]]
            if index == len(fieldsets) - 1:
                fields += [*extra, *missing]
            result.append((title, {**options, "fields": fields}))
        return result
