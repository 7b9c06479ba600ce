"""The engine's state, storage, ids and output (expansion, pagination).

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..params import ParamError, as_int
from .common import (
    ID_SUFFIX,
    PREFIXES,
    Obj,
    StripeError,
    not_found,
)


class EngineStore:
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

    def rollback(self, saved: Obj) -> None:
        """Puts back the objects, events and deliveries of an earlier ``snapshot()`` (a copy of
        it): an operation that failed half-way leaves nothing behind. The clock stays."""
        self.counters, self.objects, self.meta, self.events, self.deliveries = (
            saved["counters"],
            saved["objects"],
            saved["meta"],
            saved["events"],
            saved["deliveries"],
        )

    def save(self) -> None:
        if not self.state_path:
            return
        # Written under the lock: two threads saving at once could otherwise put an older
        # snapshot over a newer one (a delivered webhook would come back from the dead).
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
            # Deliveries in flight when the process stopped are sent again.
            self.deliveries = [
                {k: v for k, v in d.items() if k != "leased_until"} for d in data.get("deliveries", [])
            ]
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

    def _virtual_field(self, node: Obj, key: str) -> Any:  # noqa: PLR0911  one return per includable field, as Stripe lists them
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
