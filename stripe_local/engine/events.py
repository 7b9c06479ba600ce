"""Events, their webhook deliveries and the write-ahead delivery queue.

One layer of ``Engine`` (see ``stripe_local.engine``)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time

from .common import (
    API_VERSION,
    DELIVERY_LEASE_SECONDS,
    MAX_EVENTS,
    Obj,
)
from .store import EngineStore


class EventsMixin(EngineStore):
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
        """Pending deliveries that are due, leased to the caller while it sends them.

        Write-ahead, as Stripe's: a delivery stays in the (saved) queue until ``delivered`` (a 2xx)
        removes it; ``requeue`` gives a failure back with backoff. A lease only keeps two senders
        off one delivery; it is dropped on ``load``, so a crash mid-send means a retry, never a loss.
        """
        with self.lock:
            now = time.time()
            taken = [
                d
                for d in self.deliveries
                if (due_before is None or d["next_attempt_at"] <= due_before)
                and d.get("leased_until", 0.0) <= now
            ]
            for delivery in taken:
                delivery["leased_until"] = now + DELIVERY_LEASE_SECONDS
            return [dict(d) for d in taken]

    def _queued(self, delivery: Obj) -> Obj | None:
        return next((d for d in self.deliveries if d["id"] == delivery["id"]), None)

    def requeue(self, delivery: Obj, *, status: int | str) -> None:
        """A delivery failed: retry later with exponential backoff (up to 16 attempts, like Stripe)."""
        with self.lock:
            queued = self._queued(delivery)
            if queued is None:
                return
            queued.pop("leased_until", None)
            queued["attempts"] += 1
            queued["last_status"] = status
            if queued["attempts"] >= 16:
                self.deliveries.remove(queued)
            else:
                base = float(self.settings.get("webhook_retry_base", 2.0))
                queued["next_attempt_at"] = time.time() + min(base * 2 ** (queued["attempts"] - 1), 3600)
        self.save()

    def delivered(self, delivery: Obj) -> None:
        """The endpoint answered 2xx: the delivery leaves the queue (and the state file)."""
        with self.lock:
            queued = self._queued(delivery)
            if queued is None:
                return
            self.deliveries.remove(queued)
            event = self.find("event", delivery["event"])
            if event and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
        self.save()
