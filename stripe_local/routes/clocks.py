"""Test clocks (all share the stand-in's one clock)."""

from __future__ import annotations

from ..engine import Engine, Obj, StripeError
from ..params import as_int, require
from ._common import LIST, allow, route


def clock_view(e: Engine, clock: Obj) -> Obj:
    return {**clock, "frozen_time": e.now, "deletes_after": e.now + 30 * 86400}


@route("POST", r"/v1/test_helpers/test_clocks")
def test_clocks_create(e: Engine, p: Obj) -> Obj:
    """Stripe's test clocks, mapped onto the single virtual clock: ``frozen_time`` may not be in
    the past and moves every clock (and everything billed) forward."""
    allow(p, "frozen_time name")
    frozen = as_int(require(p, "frozen_time"), param="frozen_time")
    if frozen < e.now:
        raise StripeError(
            400,
            "The stand-in has one clock: frozen_time cannot be before its current time.",
            param="frozen_time",
        )
    e.advance(to=frozen)
    clock: Obj = {
        "id": e.new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": e.now,
        "deletes_after": 0,
        "frozen_time": e.now,
        "livemode": False,
        "name": p.get("name") or None,
        "status": "ready",
        "status_details": {},
    }
    e.created(clock)
    return clock_view(e, clock)


@route("GET", r"/v1/test_helpers/test_clocks")
def test_clocks_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST)
    listed = e.paginate(
        [c for c in e.all("test_helpers.test_clock") if not c.get("deleted")],
        p,
        "/v1/test_helpers/test_clocks",
    )
    listed["data"] = [clock_view(e, c) for c in listed["data"]]
    return listed


@route("GET", r"/v1/test_helpers/test_clocks/{id}")
def test_clocks_retrieve(e: Engine, p: Obj, clock_id: str) -> Obj:
    return clock_view(e, e.get("test_helpers.test_clock", clock_id, label="test_clock"))


@route("POST", r"/v1/test_helpers/test_clocks/{id}/advance")
def test_clocks_advance(e: Engine, p: Obj, clock_id: str) -> Obj:
    allow(p, "frozen_time")
    clock = e.get("test_helpers.test_clock", clock_id, label="test_clock")
    frozen = as_int(require(p, "frozen_time"), param="frozen_time")
    if frozen < e.now:
        raise StripeError(400, "Test clocks can only move forward.", param="frozen_time")
    e.advance(to=frozen)
    view = clock_view(e, clock)
    e.emit("test_helpers.test_clock.ready", view)
    return view


@route("DELETE", r"/v1/test_helpers/test_clocks/{id}")
def test_clocks_delete(e: Engine, p: Obj, clock_id: str) -> Obj:
    clock = e.get("test_helpers.test_clock", clock_id, label="test_clock")
    clock["deleted"] = True
    return {"id": clock_id, "object": "test_helpers.test_clock", "deleted": True}
