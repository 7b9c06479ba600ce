"""Money flows: fees, balance transactions, payment intents, charges and disputes.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy

from .common import (
    DAY,
    DISPUTE_EVIDENCE_DAYS,
    DISPUTE_FEE,
    DISPUTE_NETWORK_REASON_CODES,
    DISPUTE_REASONS,
    Obj,
    StripeError,
)
from .payment_methods import PaymentMethodsMixin


class ChargesMixin(PaymentMethodsMixin):
    # --- charges -----------------------------------------------------------------------------
    def fee(self, amount: int) -> int:
        return (
            int(round(amount * self.settings["card_fee_percent"] / 100))
            + int(self.settings["card_fee_fixed"])
            if amount > 0
            else 0
        )

    def balance_transaction(
        self, *, amount: int, currency: str, source: str, kind: str, description: str | None
    ) -> Obj:
        fee = self.fee(amount) if kind == "charge" else 0
        return self.created(
            {
                "id": self.new_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "available_on": self.now + 2 * DAY,
                "created": self.now,
                "currency": currency,
                "description": description,
                "exchange_rate": None,
                "fee": fee,
                "fee_details": [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else [],
                "net": amount - fee,
                "reporting_category": kind,
                "source": source,
                "status": "pending",
                "type": kind,
            }
        )

    def new_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        description: str | None = None,
        metadata: Obj | None = None,
        invoice: str | None = None,
        payment_method: str | None = None,
        setup_future_usage: str | None = None,
    ) -> Obj:
        pi_id = self.new_id("pi")
        pi = self.created(
            {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_details": {"tip": {}},
                "amount_received": 0,
                "application": None,
                "application_fee_amount": None,
                "automatic_payment_methods": None,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": "automatic",
                "client_secret": f"{pi_id}_secret_{self.secret('pi', pi_id)[:24]}",
                "confirmation_method": "automatic",
                "created": self.now,
                "currency": currency,
                "customer": customer,
                "description": description,
                "invoice": invoice,
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "next_action": None,
                "on_behalf_of": None,
                "payment_method": payment_method,
                "payment_method_configuration_details": None,
                "payment_method_options": {
                    "card": {
                        "installments": None,
                        "mandate_options": None,
                        "network": None,
                        "request_three_d_secure": "automatic",
                    }
                },
                "payment_method_types": ["card"],
                "processing": None,
                "receipt_email": None,
                "review": None,
                "setup_future_usage": setup_future_usage,
                "shipping": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "requires_payment_method" if not payment_method else "requires_confirmation",
                "transfer_data": None,
                "transfer_group": None,
                "source": None,
            }
        )
        self.emit("payment_intent.created", pi)
        return pi

    def confirm_payment_intent(self, pi: Obj, pm_id: str | None) -> StripeError | None:
        """Charge ``pm_id`` for ``pi``. Returns the card error on failure (the PI records it)."""
        if pm_id is None:
            pm_id = pi.get("payment_method")
        if not pm_id:
            return StripeError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        pm = self.get("payment_method", pm_id, param="payment_method")
        behaviour = self.card_behaviour(pm_id)
        previous_status = pi["status"]
        charge_id = self.new_id("ch")
        failure: tuple[str, str | None] | None = None
        if behaviour in ("decline_attach", "fail_charge"):
            failure = ("card_declined", "generic_decline")
        elif behaviour == "auth_required":
            failure = ("authentication_required", "authentication_required")
        elif behaviour == "insufficient_funds":
            failure = ("card_declined", "insufficient_funds")
        outcome = {
            "network_status": "approved_by_network" if not failure else "declined_by_network",
            "reason": None if not failure else failure[1],
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete."
            if not failure
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if not failure else "issuer_declined",
        }
        txn = None
        if not failure:
            txn = self.balance_transaction(
                amount=pi["amount"],
                currency=pi["currency"],
                source=charge_id,
                kind="charge",
                description=pi["description"],
            )
        card = pm["card"]
        charge = self.created(
            {
                "id": charge_id,
                "object": "charge",
                "amount": pi["amount"],
                "amount_captured": pi["amount"] if not failure else 0,
                "amount_refunded": 0,
                "application": None,
                "application_fee": None,
                "application_fee_amount": None,
                "balance_transaction": txn["id"] if txn else None,
                "billing_details": copy.deepcopy(pm["billing_details"]),
                "calculated_statement_descriptor": "RELAY",
                "captured": not failure,
                "created": self.now,
                "currency": pi["currency"],
                "customer": pi["customer"],
                "description": pi["description"],
                "disputed": False,
                "failure_balance_transaction": None,
                "failure_code": failure[0] if failure else None,
                "failure_message": self.card_error(*failure).message if failure else None,
                "fraud_details": {},
                "invoice": pi["invoice"],
                "livemode": False,
                "metadata": dict(pi["metadata"]),
                "on_behalf_of": None,
                "outcome": outcome,
                "paid": not failure,
                "payment_intent": pi["id"],
                "payment_method": pm_id,
                "payment_method_details": {
                    "card": {
                        "amount_authorized": pi["amount"] if not failure else None,
                        "brand": card["brand"],
                        "checks": copy.deepcopy(card["checks"]),
                        "country": card["country"],
                        "exp_month": card["exp_month"],
                        "exp_year": card["exp_year"],
                        "extended_authorization": {"status": "disabled"},
                        "fingerprint": card["fingerprint"],
                        "funding": card["funding"],
                        "incremental_authorization": {"status": "unavailable"},
                        "installments": None,
                        "last4": card["last4"],
                        "mandate": None,
                        "multicapture": {"status": "unavailable"},
                        "network": card["brand"],
                        "network_token": {"used": False},
                        "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
                        "three_d_secure": None,
                        "wallet": None,
                        "authorization_code": None if failure else "123456",
                        "regulated_status": "unregulated",
                        "network_transaction_id": None,
                    },
                    "type": "card",
                },
                "receipt_email": None,
                "receipt_number": None,
                "receipt_url": f"{self.base_url}/receipts/{charge_id}",
                "refunded": False,
                "refunds": self.list_obj([], f"/v1/charges/{charge_id}/refunds"),
                "review": None,
                "shipping": None,
                "source_transfer": None,
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "failed" if failure else "succeeded",
                "transfer_data": None,
                "transfer_group": None,
                "source": None,
            }
        )
        if failure:
            error = self.card_error(*failure, charge=charge_id)
            self.emit("charge.failed", charge)
            last_error = {
                "charge": charge_id,
                "code": failure[0],
                "decline_code": failure[1],
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "message": error.message,
                "payment_method": copy.deepcopy(pm),
                "type": "card_error",
            }
            # No 3-D Secure flow: an authentication failure is a decline, as the issue allows.
            status = "requires_payment_method"
            self.update(
                pi,
                {
                    "status": status,
                    "payment_method": None,
                    "latest_charge": charge_id,
                    "last_payment_error": last_error,
                },
                "payment_intent.payment_failed",
            )
            error.extra["payment_intent"] = copy.deepcopy(pi)
            return error
        self.emit("charge.succeeded", charge)
        self.update(
            pi,
            {
                "status": "succeeded",
                "payment_method": pm_id,
                "amount_received": pi["amount"],
                "latest_charge": charge_id,
                "last_payment_error": None,
            },
            "payment_intent.succeeded",
        )
        if (
            previous_status == "requires_payment_method"
            and pi.get("setup_future_usage")
            and pi.get("customer")
            and not pm["customer"]
        ):
            pm["customer"] = pi["customer"]
            self.emit("payment_method.attached", pm)
        if behaviour.startswith("dispute_"):
            # Stripe disputes these test cards seconds after the charge; here it happens at once,
            # so charge.dispute.created may come before the invoice's own paid events.
            inquiry = behaviour == "dispute_inquiry"
            self.create_dispute(charge, reason="fraudulent" if inquiry else behaviour[8:], inquiry=inquiry)
        return None

    # --- disputes ----------------------------------------------------------------------------
    def create_dispute(self, charge: Obj, *, reason: str = "fraudulent", inquiry: bool = False) -> Obj:
        """The card's issuer disputes ``charge``: a dispute for the unrefunded amount.

        A chargeback (``needs_response``) withdraws the amount plus Stripe's dispute fee from the
        balance (one ``adjustment`` balance transaction) and leaves the charge non-refundable; an
        inquiry (``warning_needs_response``) withdraws nothing. Events: ``charge.dispute.created``,
        ``charge.updated`` (``disputed`` becomes true) and, for a chargeback,
        ``charge.dispute.funds_withdrawn``.
        """
        if charge["status"] != "succeeded":
            raise StripeError(
                400, f"Charge {charge['id']} has not succeeded and cannot be disputed.", param="charge"
            )
        if charge["disputed"]:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been disputed.",
                code="charge_disputed",
                param="charge",
            )
        if reason not in DISPUTE_REASONS:
            raise StripeError(
                400,
                f"Invalid reason: must be one of {', '.join(sorted(DISPUTE_REASONS))}",
                code="parameter_invalid",
                param="reason",
            )
        amount = charge["amount"] - charge["amount_refunded"]
        if amount <= 0:
            raise StripeError(
                400, f"Charge {charge['id']} has been fully refunded and cannot be disputed.", param="charge"
            )
        dispute_id = self.new_id("dp")
        transactions: list[Obj] = []
        if not inquiry:
            txn = self.balance_transaction(
                amount=-amount,
                currency=charge["currency"],
                source=dispute_id,
                kind="adjustment",
                description=f"Chargeback withdrawal for {charge['id']}",
            )
            txn.update(
                {
                    "fee": DISPUTE_FEE,
                    "fee_details": [
                        {
                            "amount": DISPUTE_FEE,
                            "application": None,
                            "currency": charge["currency"],
                            "description": "Dispute fee",
                            "type": "stripe_fee",
                        }
                    ],
                    "net": -amount - DISPUTE_FEE,
                    "reporting_category": "dispute",
                }
            )
            transactions.append(copy.deepcopy(txn))
        card = (charge.get("payment_method_details") or {}).get("card") or {}
        evidence_fields = [
            "access_activity_log",
            "billing_address",
            "cancellation_policy",
            "cancellation_policy_disclosure",
            "cancellation_rebuttal",
            "customer_communication",
            "customer_email_address",
            "customer_name",
            "customer_purchase_ip",
            "customer_signature",
            "duplicate_charge_documentation",
            "duplicate_charge_explanation",
            "duplicate_charge_id",
            "product_description",
            "receipt",
            "refund_policy",
            "refund_policy_disclosure",
            "refund_refusal_explanation",
            "service_date",
            "service_documentation",
            "shipping_address",
            "shipping_carrier",
            "shipping_date",
            "shipping_documentation",
            "shipping_tracking_number",
            "uncategorized_file",
            "uncategorized_text",
        ]
        dispute = self.created(
            {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "balance_transactions": transactions,
                "charge": charge["id"],
                "created": self.now,
                "currency": charge["currency"],
                "evidence": {**dict.fromkeys(evidence_fields), "enhanced_evidence": {}},
                "evidence_details": {
                    "due_by": self.now + DISPUTE_EVIDENCE_DAYS * DAY,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                    "enhanced_eligibility": {},
                },
                "is_charge_refundable": inquiry,
                "livemode": False,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "payment_method_details": {
                    "card": {
                        "brand": card.get("brand") or "visa",
                        "case_type": "inquiry" if inquiry else "chargeback",
                        "network_reason_code": DISPUTE_NETWORK_REASON_CODES.get(reason),
                    },
                    "type": "card",
                },
                "reason": reason,
                "status": "warning_needs_response" if inquiry else "needs_response",
                "enhanced_eligibility_types": [],
            }
        )
        self.m(charge["id"])["dispute"] = dispute_id
        self.emit("charge.dispute.created", dispute)
        self.update(charge, {"disputed": True})
        if not inquiry:
            self.emit("charge.dispute.funds_withdrawn", dispute)
        return dispute
