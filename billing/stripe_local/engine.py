"""The stand-in's state and behaviour: objects, ids, events, expansion, money flows and the clock.

No Django here: the engine runs inside pytest, behind ``manage.py stripe_local`` or on its own.
Every public method takes the lock; objects are stored in Stripe's 2025-02-24.acacia shape and
copied on the way out, so callers never share state with the engine.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
DISPUTE_FEE = 1500  # Stripe's US dispute fee, withdrawn with the disputed amount
DISPUTE_EVIDENCE_DAYS = 7
DISPUTE_REASONS = frozenset(
    ["bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated", "debit_not_authorized", "duplicate", "fraudulent", "general", "incorrect_account_details", "insufficient_funds", "product_not_received", "product_unacceptable", "subscription_canceled", "unrecognized"]
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


class Engine:
    """State and behaviour of one local Stripe account."""

    def __init__(self, *, base_url: str = "http://127.0.0.1:12111", state_path: str | None = None) -> None:
        self.lock = threading.RLock()
        self.base_url = base_url.rstrip("/")
        self.state_path = state_path
        self.settings: Obj = {}
        self.now = int(time.time())
        self.counters: dict[str, int] = {}
        self.objects: dict[str, dict[str, Obj]] = {}
        self.meta: dict[str, Obj] = {}
        self.events: list[str] = []
        self.deliveries: list[Obj] = []
        self.idempotency: dict[str, Obj] = {}
        self.request_ctx: Obj = {"id": None, "idempotency_key": None}
        self.on_delivery: Callable[[], None] | None = None
        self.reset()
        if state_path and os.path.exists(state_path):
            self.load()

    # --- state -------------------------------------------------------------------------------
    def reset(self, *, now: int | None = None) -> None:
        """Forget everything; the clock goes back to real time (or ``now``)."""
        with self.lock:
            self.now = int(now if now is not None else time.time())
            self.counters = {}
            self.objects = {}
            self.meta = {}
            self.events = []
            self.deliveries = []
            self.idempotency = {}
            self.settings = {
                "dunning_final_status": "canceled",
                "card_fee_percent": 2.9,
                "card_fee_fixed": 30,
                "webhook_retry_base": 2.0,
            }

    def snapshot(self) -> Obj:
        return {
            "version": 1,
            "now": self.now,
            "counters": self.counters,
            "objects": self.objects,
            "meta": self.meta,
            "events": self.events,
            "deliveries": self.deliveries,
            "settings": self.settings,
        }

    def save(self) -> None:
        if not self.state_path:
            return
        with self.lock:
            data = json.dumps(self.snapshot())
        directory = os.path.dirname(os.path.abspath(self.state_path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".stripe_local")
        with os.fdopen(fd, "w") as handle:
            handle.write(data)
        os.replace(tmp, self.state_path)

    def load(self) -> None:
        assert self.state_path  # noqa: S101 - programming error
        with open(self.state_path) as handle:
            data = json.load(handle)
        with self.lock:
            self.now = int(data["now"])  # the clock only moves when told, restarts included
            self.counters = data["counters"]
            self.objects = data["objects"]
            self.meta = data["meta"]
            self.events = data["events"]
            self.deliveries = data.get("deliveries", [])
            self.settings.update(data.get("settings", {}))

    # --- ids and storage ---------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        count = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = count
        if prefix == "cs_test":
            return f"cs_test_{count:08d}" + (ID_SUFFIX * 4)[:50]
        return f"{prefix}_{count:08d}{ID_SUFFIX}"

    def secret(self, *parts: str) -> str:
        return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]

    def put(self, obj: Obj, kind: str | None = None) -> Obj:
        self.objects.setdefault(kind or obj["object"], {})[obj["id"]] = obj
        return obj

    def find(self, kind: str, object_id: str) -> Obj | None:
        return self.objects.get(kind, {}).get(object_id)

    def get(self, kind: str, object_id: Any, *, param: str = "id", label: str | None = None) -> Obj:
        obj = self.find(kind, str(object_id)) if isinstance(object_id, str) else None
        if obj is None or obj.get("deleted"):
            raise not_found(label or kind.split(".")[-1].replace("_", " "), str(object_id), param)
        return obj

    def all(self, kind: str) -> list[Obj]:
        return list(self.objects.get(kind, {}).values())

    def m(self, object_id: str) -> Obj:
        """Internal bookkeeping for an object (never returned by the API)."""
        return self.meta.setdefault(object_id, {})

    def kind_of(self, object_id: str) -> str | None:
        if object_id.startswith("cs_"):
            return "checkout.session"
        if object_id.startswith("feat_"):
            return "entitlements.feature"
        return PREFIXES.get(object_id.split("_", 1)[0])

    def resolve(self, object_id: str) -> Obj | None:
        kind = self.kind_of(object_id)
        if kind is None:
            return self.find("coupon", object_id)
        if kind == "subscription_item":
            return None
        return self.find(kind, object_id)

    @contextmanager
    def request(self, request_id: str | None, idempotency_key: str | None) -> Iterator[None]:
        with self.lock:
            previous = self.request_ctx
            self.request_ctx = {"id": request_id, "idempotency_key": idempotency_key}
            try:
                yield
            finally:
                self.request_ctx = previous

    # --- output ------------------------------------------------------------------------------
    def out(self, obj: Obj, expand: list[str] | None = None) -> Obj:
        """A deep copy of ``obj`` with ``expand`` paths replaced by the objects they name."""
        result = copy.deepcopy(obj)
        for path in expand or []:
            self._expand(result, path.split("."), path)
        return result

    def _expand_value(self, value: Any, path: str) -> Any:
        if isinstance(value, str):
            target = self.resolve(value)
            if target is None:
                return value
            return copy.deepcopy(target)
        if isinstance(value, list):
            return [self._expand_value(item, path) for item in value]
        return value

    def _expand(self, node: Any, parts: list[str], full: str) -> None:
        if not parts or node is None:
            return
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, full)
            return
        if not isinstance(node, dict):
            return
        key, rest = parts[0], parts[1:]
        if key not in node:
            extra = self._virtual_field(node, key)
            if extra is None:
                raise StripeError(400, f"This property cannot be expanded ({full}).", param="expand")
            node[key] = extra
        else:
            node[key] = self._expand_value(node[key], full)
        self._expand(node[key], rest, full)

    def _virtual_field(self, node: Obj, key: str) -> Any:
        """Includable fields Stripe returns only when expanded."""
        kind = node.get("object")
        if kind == "customer":
            if key == "sources":
                return self.list_obj([], f"/v1/customers/{node['id']}/sources")
            if key == "tax_ids":
                return self.list_obj([], f"/v1/customers/{node['id']}/tax_ids")
            if key == "subscriptions":
                subs = [
                    s
                    for s in self.all("subscription")
                    if s["customer"] == node["id"] and s["status"] != "canceled"
                ]
                return self.list_obj(copy.deepcopy(subs), "/v1/subscriptions")
            if key == "invoice_credit_balance":
                return {}
        if kind == "price" and key == "currency_options":
            return {
                node["currency"]: {
                    "custom_unit_amount": None,
                    "tax_behavior": node["tax_behavior"],
                    "unit_amount": node["unit_amount"],
                    "unit_amount_decimal": node["unit_amount_decimal"],
                }
            }
        if kind == "price" and key == "tiers":
            return []
        if kind == "item" and key in ("discounts", "taxes"):
            return []
        if kind == "coupon" and key == "applies_to":
            return {"products": []}
        if kind == "checkout.session" and key == "line_items":
            return self.list_obj(
                copy.deepcopy(self.m(node["id"]).get("line_items", [])),
                f"/v1/checkout/sessions/{node['id']}/line_items",
            )
        if key == "breakdown" and "amount_discount" in node:
            return {"discounts": [], "taxes": []}
        return None

    @staticmethod
    def list_obj(data: list[Obj], url: str, has_more: bool = False) -> Obj:
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def paginate(self, items: list[Obj], params: Obj, url: str) -> Obj:
        """Stripe list semantics: newest first, ``limit`` (1-100), ``starting_after``, ``ending_before``."""
        from .params import ParamError, as_int

        items = sorted(
            items, key=lambda o: (o.get("created") or 0, self.m(o["id"]).get("seq", 0)), reverse=True
        )
        limit = as_int(params.get("limit", 10), param="limit")
        if not 1 <= limit <= 100:
            raise ParamError("Invalid integer: limit must be between 1 and 100", param="limit")
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            cursor = params["starting_after"]
            if cursor not in ids:
                raise not_found("object", cursor, "starting_after")
            window = items[ids.index(cursor) + 1 :]
            page = window[:limit]
            has_more = len(window) > limit
        elif params.get("ending_before"):
            cursor = params["ending_before"]
            if cursor not in ids:
                raise not_found("object", cursor, "ending_before")
            window = items[: ids.index(cursor)]
            page = window[-limit:]
            has_more = len(window) > limit
        else:
            page = items[:limit]
            has_more = len(items) > limit
        return self.list_obj([copy.deepcopy(o) for o in page], url, has_more)

    # --- events ------------------------------------------------------------------------------
    def created(self, obj: Obj) -> Obj:
        """Store a new object and remember its creation order (for stable list ordering)."""
        self.counters["_seq"] = self.counters.get("_seq", 0) + 1
        self.m(obj["id"])["seq"] = self.counters["_seq"]
        return self.put(obj)

    def emit(self, event_type: str, obj: Obj, previous: Obj | None = None) -> Obj:
        endpoints = [
            we
            for we in self.all("webhook_endpoint")
            if not we.get("deleted")
            and we["status"] == "enabled"
            and ("*" in we["enabled_events"] or event_type in we["enabled_events"])
        ]
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = self.created(
            {
                "id": self.new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.now,
                "data": data,
                "livemode": False,
                "pending_webhooks": len(endpoints),
                "request": dict(self.request_ctx),
                "type": event_type,
            }
        )
        self.events.append(event["id"])
        if len(self.events) > MAX_EVENTS:
            # Stripe keeps 30 days of events; a long-running dev state keeps the newest ones.
            for old_id in self.events[: len(self.events) - MAX_EVENTS]:
                self.objects["event"].pop(old_id, None)
                self.meta.pop(old_id, None)
            self.events = self.events[-MAX_EVENTS:]
        for we in endpoints:
            self.deliveries.append(
                {
                    "id": f"{event['id']}:{we['id']}",
                    "event": event["id"],
                    "endpoint": we["id"],
                    "attempts": 0,
                    "next_attempt_at": 0.0,
                }
            )
        if endpoints and self.on_delivery:
            self.on_delivery()
        return event

    def update(self, obj: Obj, changes: Obj, event_type: str | None = None) -> Obj:
        """Apply ``changes`` to ``obj`` and emit ``<object>.updated`` with previous_attributes."""
        previous: Obj = {}
        for key, value in changes.items():
            if obj.get(key) != value:
                previous[key] = copy.deepcopy(obj.get(key))
                obj[key] = value
        if previous:
            self.emit(event_type or f"{obj['object']}.updated", obj, previous)
        return obj

    def signed_delivery(
        self, delivery: Obj, *, timestamp: int | None = None
    ) -> tuple[str, bytes, dict[str, str]]:
        """The exact request Stripe would send for a delivery: (url, body, headers)."""
        with self.lock:
            event = self.get("event", delivery["event"])
            endpoint = self.get("webhook_endpoint", delivery["endpoint"])
            payload = json.dumps(event, indent=2).encode()
            secret = self.m(endpoint["id"])["secret"]
        ts = int(timestamp if timestamp is not None else time.time())
        signature = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={ts},v1={signature}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return endpoint["url"], payload, headers

    def take_deliveries(self, *, due_before: float | None = None) -> list[Obj]:
        """Pending deliveries (removed from the queue; give failures back with ``requeue``)."""
        with self.lock:
            taken = [d for d in self.deliveries if due_before is None or d["next_attempt_at"] <= due_before]
            self.deliveries = [d for d in self.deliveries if d not in taken]
            return [dict(d) for d in taken]

    def requeue(self, delivery: Obj, *, status: int | str) -> None:
        """A delivery failed: retry later with exponential backoff (up to 3 days, like Stripe)."""
        with self.lock:
            delivery = dict(delivery)
            delivery["attempts"] += 1
            delivery["last_status"] = status
            if delivery["attempts"] >= 16:
                return
            base = float(self.settings.get("webhook_retry_base", 2.0))
            delivery["next_attempt_at"] = time.time() + min(base * 2 ** (delivery["attempts"] - 1), 3600)
            self.deliveries.append(delivery)

    def delivered(self, delivery: Obj) -> None:
        with self.lock:
            event = self.find("event", delivery["event"])
            if event and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    # --- cards and payment methods -----------------------------------------------------------
    def card_behaviour(self, pm_id: str | None) -> str:
        if not pm_id:
            return "missing"
        number = self.m(pm_id).get("number", "4242424242424242")
        return TEST_CARDS.get(number, ("visa", "ok"))[1]

    def make_payment_method(
        self, card: Obj, *, billing_details: Obj | None = None, metadata: Obj | None = None
    ) -> Obj:
        from .params import as_int

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
        evidence_fields = ["access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text"]
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

    # --- coupons and discounts ---------------------------------------------------------------
    def make_discount(
        self,
        *,
        coupon_id: str | None = None,
        promotion_code_id: str | None = None,
        customer: str | None,
        subscription: str | None = None,
        checkout_session: str | None = None,
        param: str = "discounts",
    ) -> Obj:
        promo = None
        if promotion_code_id:
            promo = self.get("promotion_code", promotion_code_id, param=param, label="promotion code")
            if not promo["active"] or (promo["expires_at"] and promo["expires_at"] <= self.now):
                raise StripeError(
                    400,
                    f"This promotion code is inactive: '{promo['code']}'",
                    code="coupon_expired",
                    param=param,
                )
            if promo["max_redemptions"] is not None and promo["times_redeemed"] >= promo["max_redemptions"]:
                raise StripeError(
                    400,
                    "This promotion code has reached its maximum redemptions.",
                    code="coupon_expired",
                    param=param,
                )
            if promo["customer"] and promo["customer"] != customer:
                raise StripeError(
                    400,
                    "This promotion code cannot be redeemed by this customer.",
                    code="coupon_expired",
                    param=param,
                )
            coupon_id = promo["coupon"]["id"]
        coupon = self.get("coupon", coupon_id, param=param)
        if not coupon["valid"]:
            raise StripeError(400, f"Coupon expired: {coupon['id']}", code="coupon_expired", param=param)
        end = None
        if coupon["duration"] == "repeating":
            end = add_interval(self.now, "month", int(coupon["duration_in_months"] or 1))
        discount = self.created(
            {
                "id": self.new_id("di"),
                "object": "discount",
                "checkout_session": checkout_session,
                "coupon": copy.deepcopy(coupon),
                "customer": customer,
                "end": end,
                "invoice": None,
                "invoice_item": None,
                "promotion_code": promo["id"] if promo else None,
                "start": self.now,
                "subscription": subscription,
                "subscription_item": None,
            }
        )
        coupon["times_redeemed"] += 1
        if coupon["max_redemptions"] is not None and coupon["times_redeemed"] >= coupon["max_redemptions"]:
            coupon["valid"] = False
        if promo:
            promo["times_redeemed"] += 1
            promo["coupon"] = copy.deepcopy(coupon)
        return discount

    def discounts_from_params(
        self,
        entries: list[Any],
        *,
        customer: str | None,
        subscription: str | None = None,
        param: str = "discounts",
    ) -> list[Obj]:
        result = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise StripeError(400, "Invalid object", param=f"{param}[{index}]")
            if entry.get("discount"):
                result.append(self.get("discount", entry["discount"], param=param))
                continue
            result.append(
                self.make_discount(
                    coupon_id=entry.get("coupon") or None,
                    promotion_code_id=entry.get("promotion_code") or None,
                    customer=customer,
                    subscription=subscription,
                    param=param,
                )
            )
        return result

    def discount_amount(self, discount: Obj, subtotal: int) -> int:
        coupon = discount["coupon"]
        if discount["end"] is not None and discount["end"] <= self.now:
            return 0
        if coupon["percent_off"] is not None:
            return min(subtotal, int(round(subtotal * float(coupon["percent_off"]) / 100)))
        return min(subtotal, int(coupon["amount_off"] or 0))

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
        discountable = sum(line["amount"] for line in lines if line["discountable"])
        if discounts is None:
            discounts = []
            if subscription:
                discounts = [
                    self.get("discount", d) for d in subscription["discounts"] if self.find("discount", d)
                ]
            if (
                not discounts
                and customer.get("discount")
                and self.find("discount", customer["discount"]["id"])
            ):
                # A customer-level coupon applies when the subscription has none of its own.
                discounts = [self.get("discount", customer["discount"]["id"])]
        total_discounts = []
        remaining = discountable
        for discount in discounts:
            if discount["coupon"]["duration"] == "once" and self.m(discount["id"]).get("used"):
                continue
            amount = self.discount_amount(discount, remaining)
            if amount:
                remaining -= amount
                total_discounts.append({"amount": amount, "discount": discount["id"]})
                for line in lines:
                    if line["discountable"] and discountable:
                        share = int(round(amount * line["amount"] / discountable))
                        line["discount_amounts"].append({"amount": share, "discount": discount["id"]})
                        line["discounts"].append(discount["id"])
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
            lines.append(
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

    def renew(self, sub: Obj) -> None:
        """The current period ended: cancel, end the trial or start the next period and charge."""
        end = sub["current_period_end"]
        if sub["cancel_at"] is not None and sub["cancel_at"] <= end:
            self.cancel_subscription(sub, at=sub["cancel_at"])
            return
        trial_ending = sub["status"] == "trialing"
        if trial_ending:
            customer = self.get("customer", sub["customer"])
            behaviour = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
            if not self.default_payment_method(customer, sub) and behaviour == "cancel":
                self.cancel_subscription(sub, at=end, reason="payment_failed")
                return
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
                actions.append((invoice["next_payment_attempt"], "retry", invoice["id"]))
        for session in self.all("checkout.session"):
            if session["status"] == "open":
                actions.append((session["expires_at"], "expire_checkout", session["id"]))
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
