"""The stand-in's state and behaviour: objects, ids, events, expansion, money flows and the clock.

No Django here: the engine runs inside pytest, behind ``manage.py stripe_local`` or on its own.
Every public method takes the lock; objects are stored in Stripe's 2025-02-24.acacia shape and
copied on the way out, so callers never share state with the engine.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

API_VERSION = "2025-02-24.acacia"
ACCOUNT_ID = "acct_1LocalStandIn0001"
ID_SUFFIX = "LocalStandIn0000"  # pads counters to the 24 characters real ids have
DAY = 86400
# Dunning: delay before retry n+1 after failed attempt n (Stripe's default smart-retry spacing,
# simplified). After the last one fails, the subscription takes DUNNING_FINAL_STATUS.
DUNNING_RETRY_DAYS = (3, 5, 7)
TRIAL_WILL_END_DAYS = 3
UPCOMING_INVOICE_DAYS = 7
INCOMPLETE_EXPIRES_SECONDS = 23 * 3600
CHECKOUT_EXPIRES_SECONDS = 24 * 3600
MAX_EVENTS = 5000
MAX_IDEMPOTENCY_KEYS = 5000
DELIVERY_LEASE_SECONDS = 60.0  # longer than a delivery's 30 s timeout
DISPUTE_FEE = 1500  # Stripe's US dispute fee, withdrawn with the disputed amount
DISPUTE_EVIDENCE_DAYS = 7
DISPUTE_REASONS = frozenset(
    [
        "bank_cannot_process",
        "check_returned",
        "credit_not_processed",
        "customer_initiated",
        "debit_not_authorized",
        "duplicate",
        "fraudulent",
        "general",
        "incorrect_account_details",
        "insufficient_funds",
        "product_not_received",
        "product_unacceptable",
        "subscription_canceled",
        "unrecognized",
    ]
)
# Visa reason codes for the reasons the test cards produce (the rest report none).
DISPUTE_NETWORK_REASON_CODES = {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1"}

Obj = dict[str, Any]

# id prefix -> stored object type (for expansion and lookups)
PREFIXES: dict[str, str] = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "pm": "payment_method",
    "sub": "subscription",
    "in": "invoice",
    "ii": "invoiceitem",
    "pi": "payment_intent",
    "ch": "charge",
    "txn": "balance_transaction",
    "re": "refund",
    "evt": "event",
    "we": "webhook_endpoint",
    "cs": "checkout.session",
    "bps": "billing_portal.session",
    "promo": "promotion_code",
    "di": "discount",
    "cn": "credit_note",
    "cbtxn": "customer_balance_transaction",
    "prodft": "product_feature",
    "feat": "entitlements.feature",
    "seti": "setup_intent",
    "clock": "test_helpers.test_clock",
    "dp": "dispute",
}

# Test cards: number -> (brand, behaviour). Behaviour: ok | decline_attach (declined at attach and
# charge) | fail_charge (attaches, charges fail) | auth_required | insufficient_funds |
# dispute_<reason> (the charge succeeds, then is disputed) | dispute_inquiry.
TEST_CARDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("visa", "ok"),
    "4000056655665556": ("visa", "ok"),
    "5555555555554444": ("mastercard", "ok"),
    "378282246310005": ("amex", "ok"),
    "4000000000000002": ("visa", "decline_attach"),
    "4000000000000341": ("visa", "fail_charge"),
    "4000000000003220": ("visa", "auth_required"),
    "4000002760003184": ("visa", "auth_required"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000000259": ("visa", "dispute_fraudulent"),
    "4000000000002685": ("visa", "dispute_product_not_received"),
    "4000000000001976": ("visa", "dispute_inquiry"),
}
# Stripe's test payment method and token ids -> card number.
TEST_TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_visa": "4242424242424242",
    "tok_mastercard": "5555555555554444",
    "tok_chargeDeclined": "4000000000000002",
    "tok_chargeCustomerFail": "4000000000000341",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
    "tok_createDispute": "4000000000000259",
    "tok_createDisputeProductNotReceived": "4000000000002685",
    "tok_createDisputeInquiry": "4000000000001976",
}


class StripeError(Exception):
    """An API error in Stripe's shape: ``{"error": {"type", "code", "message", "param", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra

    def body(self) -> Obj:
        error: Obj = {"type": self.type, "code": self.code, "message": self.message, "param": self.param}
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def not_found(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def luhn_ok(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def add_interval(ts: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """Add ``count`` intervals to a UTC timestamp, clamping month ends like Stripe."""
    when = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    if interval == "day":
        return ts + count * DAY
    if interval == "week":
        return ts + count * 7 * DAY
    months = count * (12 if interval == "year" else 1)
    month_index = when.month - 1 + months
    year = when.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor_day or when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())
