"""Subscriptions: items, periods, renewal, cancellation.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy
import datetime as dt

from .common import (
    Obj,
    StripeError,
    add_interval,
)
from .invoices import InvoicesMixin


class SubscriptionsMixin(InvoicesMixin):
    # --- subscriptions -----------------------------------------------------------------------
    def sub_item(
        self, *, subscription_id: str, price: Obj, quantity: int, metadata: Obj | None = None
    ) -> Obj:
        return {
            "id": self.new_id("si"),
            "object": "subscription_item",
            "billing_thresholds": None,
            "created": self.now,
            "discounts": [],
            "metadata": dict(metadata or {}),
            "price": copy.deepcopy(price),
            "quantity": quantity,
            "subscription": subscription_id,
            "tax_rates": [],
            "plan": self.plan_from_price(price),
        }

    def period_end(self, sub: Obj, start: int) -> int:
        price = sub["items"]["data"][0]["price"]
        recurring = price["recurring"]
        anchor = dt.datetime.fromtimestamp(sub["billing_cycle_anchor"], tz=dt.UTC).day
        return add_interval(start, recurring["interval"], int(recurring["interval_count"]), anchor)

    def cycle_lines(self, sub: Obj, period: tuple[int, int], invoice_id: str | None) -> list[Obj]:
        lines = []
        for item in sub["items"]["data"]:
            price = item["price"]
            product = self.find("product", price["product"])
            name = product["name"] if product else price["product"]
            quantity = item["quantity"] or 1
            lines.append(
                self.line(
                    invoice_id=invoice_id,
                    amount=int(price["unit_amount"] or 0) * quantity,
                    price=price,
                    quantity=quantity,
                    description=f"{quantity} × {name} (at ${int(price['unit_amount'] or 0) / 100:.2f} / {price['recurring']['interval']})",
                    period=period,
                    subscription=sub["id"],
                    subscription_item=item["id"],
                )
            )
        return lines

    def invoice_subscription(
        self,
        sub: Obj,
        *,
        billing_reason: str,
        period: tuple[int, int],
        lines: list[Obj] | None = None,
        pm_id: str | None = None,
        attempt: bool = True,
    ) -> tuple[Obj, StripeError | None]:
        customer = self.get("customer", sub["customer"])
        if lines is None:
            pending = self.pending_items(customer["id"], sub["id"])
            lines = self.item_lines(pending, None) + self.cycle_lines(sub, period, None)
        else:
            pending = []
        invoice = self.build_invoice(
            customer=customer, subscription=sub, lines=lines, billing_reason=billing_reason, period=period
        )
        for ii in pending:
            ii["invoice"] = invoice["id"]
        self.finalize_invoice(invoice)
        error = None
        if attempt and invoice["status"] == "open":
            error = self.attempt_invoice(invoice, pm_id=pm_id)
        return invoice, error

    def set_subscription(self, sub: Obj, changes: Obj) -> None:
        """Update a subscription and emit customer.subscription.updated (or .deleted)."""
        if changes.get("status") == "canceled" and sub["status"] != "canceled":
            previous = {k: copy.deepcopy(sub.get(k)) for k in changes if sub.get(k) != changes[k]}
            sub.update(changes)
            self.emit("customer.subscription.deleted", sub, previous)
            return
        self.update(sub, changes, "customer.subscription.updated")

    def cancel_subscription(
        self, sub: Obj, *, at: int | None = None, reason: str = "cancellation_requested"
    ) -> None:
        when = self.now if at is None else at
        for invoice in self.all("invoice"):
            if invoice["subscription"] == sub["id"] and invoice["status"] == "open":
                invoice["next_payment_attempt"] = None
                invoice["auto_advance"] = False
        self.set_subscription(
            sub,
            {
                "status": "canceled",
                "ended_at": when,
                "canceled_at": sub["canceled_at"] or when,
                "cancel_at": sub["cancel_at"],
                "cancellation_details": {
                    **sub["cancellation_details"],
                    "reason": sub["cancellation_details"].get("reason") or reason,
                },
            },
        )

    def renew(self, sub: Obj) -> StripeError | None:
        """The current period ended: cancel, end the trial or start the next period and charge.

        Returns the charge's error when the new period's invoice could not be paid."""
        end = sub["current_period_end"]
        if sub["cancel_at"] is not None and sub["cancel_at"] <= end:
            self.cancel_subscription(sub, at=sub["cancel_at"])
            return None
        trial_ending = sub["status"] == "trialing"
        if trial_ending:
            customer = self.get("customer", sub["customer"])
            behaviour = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
            if not self.default_payment_method(customer, sub) and behaviour == "cancel":
                self.cancel_subscription(sub, at=end, reason="payment_failed")
                return None
        period = (end, self.period_end(sub, end))
        invoice, error = self.invoice_subscription(sub, billing_reason="subscription_cycle", period=period)
        status = sub["status"]
        if invoice["status"] == "paid":
            status = "active"
        elif error is not None:
            status = "past_due"
        self.m(sub["id"]).pop("upcoming_sent", None)
        self.set_subscription(
            sub,
            {
                "current_period_start": period[0],
                "current_period_end": period[1],
                "status": status,
                "latest_invoice": invoice["id"],
            },
        )
        return error

    def after_invoice_paid(self, invoice: Obj) -> None:
        """A late payment brings an incomplete/past_due/unpaid subscription back to active."""
        if not invoice["subscription"] or invoice["status"] != "paid":
            return
        sub = self.find("subscription", invoice["subscription"])
        if (
            sub
            and sub["status"] in ("incomplete", "past_due", "unpaid")
            and sub["latest_invoice"] == invoice["id"]
        ):
            self.set_subscription(sub, {"status": "active"})

    def after_invoice_failed_finally(self, invoice: Obj) -> None:
        sub = self.find("subscription", invoice["subscription"]) if invoice["subscription"] else None
        if sub is None or sub["status"] not in ("past_due", "active"):
            return
        final = self.settings.get("dunning_final_status", "canceled")
        if final == "unpaid":
            self.set_subscription(sub, {"status": "unpaid"})
        elif final == "past_due":
            return
        else:
            self.cancel_subscription(sub, reason="payment_failed")
