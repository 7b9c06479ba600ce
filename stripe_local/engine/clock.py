"""The clock (due actions, advancing), invoice previews with prorations, and signatures.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import time

from .common import (
    DAY,
    INCOMPLETE_EXPIRES_SECONDS,
    TRIAL_WILL_END_DAYS,
    UPCOMING_INVOICE_DAYS,
    Obj,
    StripeError,
)
from .subscriptions import SubscriptionsMixin


class ClockMixin(SubscriptionsMixin):
    # --- the clock ---------------------------------------------------------------------------
    def _due_actions(self) -> list[tuple[int, str, str]]:
        actions: list[tuple[int, str, str]] = []
        for sub in self.all("subscription"):
            status = sub["status"]
            meta = self.m(sub["id"])
            if status == "incomplete":
                actions.append((sub["created"] + INCOMPLETE_EXPIRES_SECONDS, "expire", sub["id"]))
                continue
            if status not in ("active", "trialing", "past_due"):
                continue
            if sub["cancel_at"] is not None and sub["cancel_at"] < sub["current_period_end"]:
                actions.append((sub["cancel_at"], "cancel", sub["id"]))
            actions.append((sub["current_period_end"], "renew", sub["id"]))
            if status == "trialing" and sub["trial_end"] and not meta.get("trial_will_end_sent"):
                actions.append(
                    (
                        max(sub["trial_end"] - TRIAL_WILL_END_DAYS * DAY, sub["trial_start"] or 0),
                        "trial_will_end",
                        sub["id"],
                    )
                )
            period = sub["current_period_end"] - sub["current_period_start"]
            if (
                status != "trialing"
                and not sub["cancel_at_period_end"]
                and period > UPCOMING_INVOICE_DAYS * DAY
                and not meta.get("upcoming_sent")
            ):
                actions.append(
                    (sub["current_period_end"] - UPCOMING_INVOICE_DAYS * DAY, "upcoming", sub["id"])
                )
        for invoice in self.all("invoice"):
            if invoice["status"] == "open" and invoice["next_payment_attempt"]:
                actions.append((invoice["next_payment_attempt"], "retry", invoice["id"]))  # noqa: PERF401  a filtered append inside a loop that does more than collect
        for session in self.all("checkout.session"):
            if session["status"] == "open":
                actions.append((session["expires_at"], "expire_checkout", session["id"]))  # noqa: PERF401  a filtered append inside a loop that does more than collect
        return actions

    def advance(self, *, to: int) -> list[str]:
        """Move the clock to ``to``, running renewals, trial ends, retries and cancellations in order.

        Returns the ids of the events this produced.
        """
        with self.lock:
            first_event = len(self.events)
            if to < self.now:
                raise StripeError(400, "The clock cannot move backwards.", param="to")
            for _ in range(10000):
                due = [a for a in self._due_actions() if a[0] <= to]
                if not due:
                    break
                when, action, object_id = min(due)
                self.now = max(self.now, when)
                self._run(action, object_id)
            self.now = to
            for txn in self.all("balance_transaction"):
                if txn["status"] == "pending" and txn["available_on"] <= to:
                    txn["status"] = "available"
            return self.events[first_event:]

    def _run(self, action: str, object_id: str) -> None:
        if action == "renew":
            self.renew(self.get("subscription", object_id))
        elif action == "cancel":
            sub = self.get("subscription", object_id)
            self.cancel_subscription(sub, at=sub["cancel_at"])
        elif action == "expire":
            sub = self.get("subscription", object_id)
            for invoice in self.all("invoice"):
                if invoice["subscription"] == sub["id"] and invoice["status"] == "open":
                    self.update(
                        invoice,
                        {
                            "status": "void",
                            "status_transitions": {**invoice["status_transitions"], "voided_at": self.now},
                            "next_payment_attempt": None,
                        },
                    )
                    self.emit("invoice.voided", invoice)
            self.set_subscription(sub, {"status": "incomplete_expired", "ended_at": self.now})
        elif action == "trial_will_end":
            sub = self.get("subscription", object_id)
            self.m(sub["id"])["trial_will_end_sent"] = True
            self.emit("customer.subscription.trial_will_end", sub)
        elif action == "upcoming":
            sub = self.get("subscription", object_id)
            self.m(sub["id"])["upcoming_sent"] = True
            self.emit("invoice.upcoming", self.preview_invoice(sub))
        elif action == "retry":
            invoice = self.get("invoice", object_id)
            error = self.attempt_invoice(invoice)
            if error is None:
                self.after_invoice_paid(invoice)
            elif invoice["next_payment_attempt"] is None:
                self.after_invoice_failed_finally(invoice)
        elif action == "expire_checkout":
            session = self.get("checkout.session", object_id)
            self.update(session, {"status": "expired", "url": None}, "checkout.session.expired")

    def preview_invoice(
        self, sub: Obj, *, items: list[Obj] | None = None, extra_lines: list[Obj] | None = None
    ) -> Obj:
        """The next renewal invoice of ``sub`` (optionally with changed ``items`` and proration lines)."""
        customer = self.get("customer", sub["customer"])
        preview_sub = copy.deepcopy(sub)
        if items is not None:
            preview_sub["items"]["data"] = items
        start = sub["current_period_end"]
        period = (start, self.period_end(preview_sub, start))
        lines = (
            self.item_lines(self.pending_items(customer["id"], sub["id"]), None)
            + list(extra_lines or [])
            + self.cycle_lines(preview_sub, period, None)
        )
        invoice = self.build_invoice(
            customer=customer,
            subscription=preview_sub,
            lines=lines,
            billing_reason="upcoming",
            period=(sub["current_period_start"], sub["current_period_end"]),
            preview=True,
        )
        invoice["created"] = start
        invoice["next_payment_attempt"] = start
        return invoice

    def proration_items(
        self, sub: Obj, old_item: Obj, new_price: Obj, new_quantity: int, *, proration_date: int, store: bool
    ) -> list[Obj]:
        """Credit for unused time on the old price and a charge for the rest of the period on the new one."""
        start, end = sub["current_period_start"], sub["current_period_end"]
        if sub["status"] == "trialing" or end <= start or proration_date >= end:
            return []
        fraction = (end - proration_date) / (end - start)
        old_price = old_item["price"]
        old_qty = old_item["quantity"] or 1
        credit = -int(round(int(old_price["unit_amount"] or 0) * old_qty * fraction))
        debit = int(round(int(new_price["unit_amount"] or 0) * new_quantity * fraction))
        when = dt.datetime.fromtimestamp(proration_date, tz=dt.UTC).strftime("%d %b %Y")
        result = []
        for amount, price, qty, label in (
            (credit, old_price, old_qty, "Unused time on"),
            (debit, new_price, new_quantity, "Remaining time on"),
        ):
            product = self.find("product", price["product"])
            name = product["name"] if product else price["product"]
            ii: Obj = {
                "id": self.new_id("ii"),
                "object": "invoiceitem",
                "amount": amount,
                "currency": price["currency"],
                "customer": sub["customer"],
                "date": self.now,
                "description": f"{label} {qty} × {name} after {when}",
                "discountable": False,
                "discounts": [],
                "invoice": None,
                "livemode": False,
                "metadata": {},
                "period": {"end": end, "start": proration_date},
                "price": copy.deepcopy(price),
                "proration": True,
                "quantity": qty,
                "subscription": sub["id"],
                "subscription_item": old_item["id"],
                "tax_rates": [],
                "test_clock": None,
                "unit_amount": abs(amount) // max(qty, 1),
                "unit_amount_decimal": str(abs(amount) // max(qty, 1)),
                "plan": self.plan_from_price(price),
            }
            if store:
                self.created(ii)
                self.emit("invoiceitem.created", ii)
            result.append(ii)
        return result

    # --- signatures (for tests and tools) ----------------------------------------------------
    @staticmethod
    def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
        ts = int(timestamp if timestamp is not None else time.time())
        signature = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={ts},v1={signature}"
