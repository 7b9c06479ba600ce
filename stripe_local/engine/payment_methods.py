"""Test cards and payment methods.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..params import as_int
from .common import (
    TEST_CARDS,
    TEST_TOKENS,
    Obj,
    StripeError,
    luhn_ok,
    not_found,
)
from .events import EventsMixin


class PaymentMethodsMixin(EventsMixin):
    # --- cards and payment methods -----------------------------------------------------------
    def card_behaviour(self, pm_id: str | None) -> str:
        if not pm_id:
            return "missing"
        number = self.m(pm_id).get("number", "4242424242424242")
        return TEST_CARDS.get(number, ("visa", "ok"))[1]

    def make_payment_method(
        self, card: Obj, *, billing_details: Obj | None = None, metadata: Obj | None = None
    ) -> Obj:
        number = str(card.get("number") or "").replace(" ", "")
        token = card.get("token")
        if token:
            if token not in TEST_TOKENS:
                raise not_found("token", token, "card[token]")
            number = TEST_TOKENS[token]
        if not number:
            raise StripeError(
                400, "Missing required param: card[number].", code="parameter_missing", param="card[number]"
            )
        if not luhn_ok(number):
            raise StripeError(
                402,
                "Your card number is incorrect.",
                type="card_error",
                code="incorrect_number",
                param="number",
            )
        exp_month = as_int(card.get("exp_month", 12), param="card[exp_month]")
        exp_year = as_int(
            card.get("exp_year", dt.datetime.fromtimestamp(self.now, tz=dt.UTC).year + 3),
            param="card[exp_year]",
        )
        if exp_year < 100:
            exp_year += 2000
        if not 1 <= exp_month <= 12:
            raise StripeError(
                402,
                "Your card's expiration month is invalid.",
                type="card_error",
                code="invalid_expiry_month",
                param="exp_month",
            )
        now = dt.datetime.fromtimestamp(self.now, tz=dt.UTC)
        if (exp_year, exp_month) < (now.year, now.month):
            raise StripeError(
                402,
                "Your card's expiration year is invalid.",
                type="card_error",
                code="invalid_expiry_year",
                param="exp_year",
            )
        brand = TEST_CARDS.get(
            number,
            (
                "visa"
                if number.startswith("4")
                else "mastercard"
                if number.startswith("5")
                else "amex"
                if number.startswith("3")
                else "unknown",
                "ok",
            ),
        )[0]
        details = {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        }
        if billing_details:
            details.update({k: v for k, v in billing_details.items() if k in details and k != "address"})
        pm = self.created(
            {
                "id": self.new_id("pm"),
                "object": "payment_method",
                "allow_redisplay": "unspecified",
                "billing_details": details,
                "card": {
                    "brand": brand,
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass" if card.get("cvc") else None,
                    },
                    "country": "US",
                    "display_brand": brand,
                    "exp_month": exp_month,
                    "exp_year": exp_year,
                    "fingerprint": self.secret("fp", number)[:16],
                    "funding": "credit",
                    "generated_from": None,
                    "last4": number[-4:],
                    "networks": {"available": [brand], "preferred": None},
                    "three_d_secure_usage": {"supported": True},
                    "wallet": None,
                    "regulated_status": "unregulated",
                },
                "created": self.now,
                "customer": None,
                "livemode": False,
                "metadata": dict(metadata or {}),
                "type": "card",
            }
        )
        self.m(pm["id"])["number"] = number
        return pm

    def payment_method_for(self, ref: str, *, param: str = "payment_method") -> Obj:
        """An existing payment method, or a new one for Stripe's test ids (pm_card_visa, tok_visa...)."""
        if ref in TEST_TOKENS:
            return self.make_payment_method({"number": TEST_TOKENS[ref]})
        return self.get("payment_method", ref, param=param)

    def attach(self, pm: Obj, customer: Obj) -> Obj:
        if pm["customer"] == customer["id"]:
            return pm
        if pm["customer"]:
            raise StripeError(
                400,
                "The payment method you provided has already been attached to a customer.",
                code="payment_method_unexpected_state",
                param="payment_method",
            )
        if self.card_behaviour(pm["id"]) == "decline_attach":
            raise self.card_error("card_declined", "generic_decline")
        pm["customer"] = customer["id"]
        self.emit("payment_method.attached", pm)
        return pm

    def card_error(self, code: str, decline_code: str | None = None, **extra: Any) -> StripeError:
        messages = {
            "card_declined": "Your card was declined.",
            "authentication_required": "Your card was declined. This transaction requires authentication.",
            "insufficient_funds": "Your card has insufficient funds.",
            "payment_method_missing": "The customer has no default payment method.",
        }
        if decline_code == "insufficient_funds":
            message = messages["insufficient_funds"]
        else:
            message = messages.get(code, "Your card was declined.")
        fields: Obj = dict(extra)
        if decline_code:
            fields["decline_code"] = decline_code
        return StripeError(402, message, type="card_error", code=code, param=None, **fields)

    def default_payment_method(self, customer: Obj, subscription: Obj | None = None) -> str | None:
        if subscription and subscription.get("default_payment_method"):
            return str(subscription["default_payment_method"])
        pm = customer["invoice_settings"].get("default_payment_method") or customer.get("default_source")
        return str(pm) if pm else None
