"""Invoices: lines, building, finalizing, paying and customer balance.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy

from .common import (
    DAY,
    DUNNING_RETRY_DAYS,
    Obj,
    StripeError,
)
from .discounts import DiscountsMixin


class InvoicesMixin(DiscountsMixin):
    # --- invoices ----------------------------------------------------------------------------
    def price_snapshot(self, price_id: str) -> Obj:
        return copy.deepcopy(self.get("price", price_id))

    @staticmethod
    def plan_from_price(price: Obj) -> Obj | None:
        recurring = price.get("recurring")
        if not recurring:
            return None
        return {
            "id": price["id"],
            "object": "plan",
            "active": price["active"],
            "aggregate_usage": None,
            "amount": price["unit_amount"],
            "amount_decimal": price["unit_amount_decimal"],
            "billing_scheme": price["billing_scheme"],
            "created": price["created"],
            "currency": price["currency"],
            "interval": recurring["interval"],
            "interval_count": recurring["interval_count"],
            "livemode": False,
            "metadata": copy.deepcopy(price["metadata"]),
            "meter": None,
            "nickname": price["nickname"],
            "product": price["product"],
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": recurring.get("trial_period_days"),
            "usage_type": recurring["usage_type"],
        }

    def line(
        self,
        *,
        invoice_id: str | None,
        amount: int,
        price: Obj,
        quantity: int | None,
        description: str,
        period: tuple[int, int],
        subscription: str | None,
        subscription_item: str | None = None,
        proration: bool = False,
        invoice_item: str | None = None,
    ) -> Obj:
        line_id = self.new_id("il")
        return {
            "id": line_id,
            "object": "line_item",
            "amount": amount,
            "amount_excluding_tax": amount,
            "currency": price["currency"],
            "description": description,
            "discount_amounts": [],
            "discountable": not proration,
            "discounts": [],
            "invoice": invoice_id,
            "invoice_item": invoice_item,
            "livemode": False,
            "metadata": {},
            "period": {"end": period[1], "start": period[0]},
            "price": copy.deepcopy(price),
            "proration": proration,
            "proration_details": {"credited_items": None},
            "quantity": quantity,
            "subscription": subscription,
            "subscription_item": subscription_item,
            "tax_amounts": [],
            "tax_rates": [],
            "type": "invoiceitem" if invoice_item else "subscription",
            "unit_amount_excluding_tax": str(int(amount / quantity) if quantity else amount),
            "plan": self.plan_from_price(price),
            "pretax_credit_amounts": [],
        }

    def invoice_discounts(self, *, customer: Obj, subscription: Obj | None) -> list[Obj]:
        """The discounts an invoice gets by default: the subscription's, else the customer's."""
        discounts = []
        if subscription:
            discounts = [
                self.get("discount", d) for d in subscription["discounts"] if self.find("discount", d)
            ]
        if not discounts and customer.get("discount") and self.find("discount", customer["discount"]["id"]):
            # A customer-level coupon applies when the subscription has none of its own.
            discounts = [self.get("discount", customer["discount"]["id"])]
        return discounts

    def discounts_apply(self, discounts: list[Obj], lines: list[Obj]) -> list[Obj]:
        """Takes each discount off the discountable lines in turn (shared by amount); the
        invoice's ``total_discount_amounts``. A once-only coupon already used is skipped."""
        discountable = sum(line["amount"] for line in lines if line["discountable"])
        total_discounts = []
        remaining = discountable
        for discount in discounts:
            if discount["coupon"]["duration"] == "once" and self.m(discount["id"]).get("used"):
                continue
            amount = self.discount_amount(discount, remaining)
            if not amount:
                continue
            remaining -= amount
            total_discounts.append({"amount": amount, "discount": discount["id"]})
            for line in lines:
                if line["discountable"] and discountable:
                    share = int(round(amount * line["amount"] / discountable))
                    line["discount_amounts"].append({"amount": share, "discount": discount["id"]})
                    line["discounts"].append(discount["id"])
        return total_discounts

    def build_invoice(
        self,
        *,
        customer: Obj,
        subscription: Obj | None,
        lines: list[Obj],
        billing_reason: str,
        period: tuple[int, int],
        preview: bool = False,
        discounts: list[Obj] | None = None,
    ) -> Obj:
        """A draft invoice (not stored when ``preview``) with its totals and discounts."""
        invoice_id = None if preview else self.new_id("in")
        for line in lines:
            line["invoice"] = invoice_id
        subtotal = sum(line["amount"] for line in lines)
        if discounts is None:
            discounts = self.invoice_discounts(customer=customer, subscription=subscription)
        total_discounts = self.discounts_apply(discounts, lines)
        discount_total = sum(d["amount"] for d in total_discounts)
        total = subtotal - discount_total
        cust_name = customer.get("name")
        sub_id = subscription["id"] if subscription else None
        invoice: Obj = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Relay (local Stripe)",
            "account_tax_ids": None,
            "amount_due": max(total, 0),
            "amount_paid": 0,
            "amount_remaining": max(total, 0),
            "amount_shipping": 0,
            "application": None,
            "application_fee_amount": None,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": not preview,
            "automatic_tax": {"enabled": False, "liability": None, "status": None, "disabled_reason": None},
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "charge": None,
            "collection_method": "charge_automatically",
            "created": self.now,
            "currency": lines[0]["currency"] if lines else customer.get("currency") or "usd",
            "custom_fields": None,
            "customer": customer["id"],
            "customer_address": customer.get("address"),
            "customer_email": customer.get("email"),
            "customer_name": cust_name,
            "customer_phone": customer.get("phone"),
            "customer_shipping": customer.get("shipping"),
            "customer_tax_exempt": customer.get("tax_exempt", "none"),
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discount": copy.deepcopy(discounts[0]) if discounts else None,
            "discounts": [d["id"] for d in discounts],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": self.list_obj(lines, f"/v1/invoices/{invoice_id or 'upcoming'}/lines"),
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": None,
            "on_behalf_of": None,
            "paid": False,
            "paid_out_of_band": False,
            "payment_intent": None,
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": period[1],
            "period_start": period[0],
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "quote": None,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": customer["balance"],
            "statement_descriptor": None,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subscription": sub_id,
            "subscription_details": {
                "metadata": copy.deepcopy(subscription["metadata"]) if subscription else None
            },
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "tax": None,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": total_discounts,
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_tax_amounts": [],
            "transfer_data": None,
            "webhooks_delivered_at": None if preview else self.now,
        }
        # Customer credit (negative balance) reduces what is due; a debit adds to it.
        if customer["balance"] and total >= 0:
            applied = max(customer["balance"], -total)
            invoice["amount_due"] = total + applied
            invoice["amount_remaining"] = invoice["amount_due"]
            invoice["ending_balance"] = customer["balance"] - applied if preview else None
        if not preview:
            if customer["currency"] is None:
                customer["currency"] = invoice["currency"]  # Stripe fixes it at the first invoice
            self.created(invoice)
            for discount in discounts:
                if total_discounts and discount["coupon"]["duration"] == "once":
                    self.m(discount["id"])["used"] = True
            self.emit("invoice.created", invoice)
        return invoice

    def pending_items(self, customer_id: str, subscription_id: str | None) -> list[Obj]:
        return [
            ii
            for ii in self.all("invoiceitem")
            if ii["customer"] == customer_id
            and ii["invoice"] is None
            and not ii.get("deleted")
            and (ii["subscription"] in (None, subscription_id))
        ]

    def item_lines(self, items: list[Obj], invoice_id: str | None) -> list[Obj]:
        lines = []
        for ii in items:
            lines.append(  # noqa: PERF401  a filtered append inside a loop that does more than collect
                self.line(
                    invoice_id=invoice_id,
                    amount=ii["amount"],
                    price=ii["price"],
                    quantity=ii["quantity"],
                    description=ii["description"],
                    period=(ii["period"]["start"], ii["period"]["end"]),
                    subscription=ii["subscription"],
                    proration=ii["proration"],
                    invoice_item=ii["id"],
                )
            )
        return lines

    def finalize_invoice(self, invoice: Obj) -> Obj:
        if invoice["status"] != "draft":
            raise StripeError(400, "This invoice is already finalized.", code="invoice_not_editable")
        customer = self.get("customer", invoice["customer"])
        number = customer["next_invoice_sequence"]
        changes: Obj = {
            "status": "open",
            "number": f"{customer['invoice_prefix']}-{number:04d}",
            "hosted_invoice_url": f"{self.base_url}/i/{invoice['id']}",
            "invoice_pdf": f"{self.base_url}/i/{invoice['id']}/pdf",
            "effective_at": self.now,
            "status_transitions": {**invoice["status_transitions"], "finalized_at": self.now},
            "auto_advance": invoice["amount_due"] > 0,
        }
        customer["next_invoice_sequence"] = number + 1
        # Apply customer balance at finalization, as Stripe does.
        balance = customer["balance"]
        if balance and invoice["total"] >= 0:
            applied = max(balance, -invoice["total"])
            changes["amount_due"] = invoice["total"] + applied
            changes["amount_remaining"] = changes["amount_due"]
            changes["starting_balance"] = balance
            changes["ending_balance"] = balance - applied
            if applied:
                self.customer_balance_change(
                    customer,
                    amount=-applied,
                    kind="applied_to_invoice",
                    invoice=invoice["id"],
                    description=None,
                )
        elif invoice["total"] < 0:
            # A credit-only invoice puts the credit on the customer's balance.
            changes["amount_due"] = 0
            changes["amount_remaining"] = 0
            changes["starting_balance"] = balance
            changes["ending_balance"] = balance + invoice["total"]
            self.customer_balance_change(
                customer,
                amount=invoice["total"],
                kind="applied_to_invoice",
                invoice=invoice["id"],
                description=None,
            )
        else:
            changes["ending_balance"] = balance
        due = int(changes.get("amount_due", invoice["amount_due"]) or 0)
        if due > 0:
            pi = self.new_payment_intent(
                amount=due,
                currency=invoice["currency"],
                customer=invoice["customer"],
                description=f"Invoice {changes['number']}",
                invoice=invoice["id"],
            )
            changes["payment_intent"] = pi["id"]
        invoice.update(changes)
        self.emit("invoice.finalized", invoice)
        if invoice["amount_due"] == 0:
            self.mark_invoice_paid(invoice, charge=None)
        return invoice

    def mark_invoice_paid(self, invoice: Obj, *, charge: str | None, out_of_band: bool = False) -> None:
        changes = {
            "status": "paid",
            "paid": True,
            "paid_out_of_band": out_of_band,
            "amount_paid": invoice["amount_due"],
            "amount_remaining": 0,
            "charge": charge,
            "attempted": True if invoice["amount_due"] else invoice["attempted"],
            "next_payment_attempt": None,
            "auto_advance": False,
            "status_transitions": {**invoice["status_transitions"], "paid_at": self.now},
        }
        self.update(invoice, changes)
        self.emit("invoice.paid", invoice)
        self.emit("invoice.payment_succeeded", invoice)

    def attempt_invoice(
        self, invoice: Obj, *, pm_id: str | None = None, retry_schedule: bool = True
    ) -> StripeError | None:
        """Charge an open invoice with ``pm_id`` or the customer's default payment method."""
        if invoice["status"] == "paid":
            return None
        if invoice["status"] != "open":
            return StripeError(
                400,
                f"You cannot pay an invoice with status {invoice['status']}.",
                code="invoice_not_editable",
            )
        customer = self.get("customer", invoice["customer"])
        subscription = self.find("subscription", invoice["subscription"]) if invoice["subscription"] else None
        pm_id = pm_id or self.default_payment_method(customer, subscription)
        pi = self.get("payment_intent", invoice["payment_intent"])
        attempts = invoice["attempt_count"] + 1
        error: StripeError | None
        if not pm_id:
            error = self.card_error("payment_method_missing")
        else:
            error = self.confirm_payment_intent(pi, pm_id)
        if error is None:
            invoice["attempt_count"] = attempts
            self.mark_invoice_paid(invoice, charge=pi["latest_charge"])
            return None
        next_attempt = None
        if (
            retry_schedule
            and attempts <= len(DUNNING_RETRY_DAYS)
            and invoice["collection_method"] == "charge_automatically"
        ):
            next_attempt = self.now + DUNNING_RETRY_DAYS[attempts - 1] * DAY
        self.update(
            invoice,
            {
                "attempt_count": attempts,
                "attempted": True,
                "next_payment_attempt": next_attempt,
                "charge": pi["latest_charge"],
            },
        )
        self.emit("invoice.payment_failed", invoice)
        return error

    def customer_balance_change(
        self,
        customer: Obj,
        *,
        amount: int,
        kind: str,
        invoice: str | None = None,
        description: str | None = None,
        credit_note: str | None = None,
        metadata: Obj | None = None,
    ) -> Obj:
        txn = self.created(
            {
                "id": self.new_id("cbtxn"),
                "object": "customer_balance_transaction",
                "amount": amount,
                "created": self.now,
                "credit_note": credit_note,
                "currency": customer.get("currency") or "usd",
                "customer": customer["id"],
                "description": description,
                "ending_balance": customer["balance"] + amount,
                "invoice": invoice,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "type": kind,
            }
        )
        self.update(customer, {"balance": customer["balance"] + amount})
        return txn
