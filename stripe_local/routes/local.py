"""Local control endpoints (not part of Stripe's API)."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj
from ..params import ParamError, as_bool, as_float, as_int, check_known, require
from ._common import route


@route("POST", r"/_local/advance")
def local_advance(e: Engine, p: Obj) -> Obj:
    check_known(p, frozenset({"seconds", "days", "to"}))
    if "to" in p:
        target = as_int(p["to"], param="to")
    else:
        target = (
            e.now
            + as_int(p.get("seconds", 0), param="seconds")
            + as_int(p.get("days", 0), param="days") * 86400
        )
    events = e.advance(to=target)
    return {"object": "local.clock", "now": e.now, "events": events}


@route("POST", r"/_local/reset")
def local_reset(e: Engine, p: Obj) -> Obj:
    check_known(p, frozenset({"now"}))
    e.reset(now=as_int(p["now"], param="now") if p.get("now") else None)
    return {"object": "local.clock", "now": e.now, "events": []}


@route("GET", r"/_local/clock")
def local_clock(e: Engine, p: Obj) -> Obj:
    return {"object": "local.clock", "now": e.now, "events": []}


@route("POST", r"/_local/settings")
def local_settings(e: Engine, p: Obj) -> Obj:
    check_known(p, frozenset({"dunning_final_status", "webhook_retry_base"}))
    if "webhook_retry_base" in p:
        e.settings["webhook_retry_base"] = as_float(p["webhook_retry_base"], param="webhook_retry_base")
    if "dunning_final_status" in p:
        if p["dunning_final_status"] not in ("canceled", "unpaid", "past_due"):
            raise ParamError(
                "dunning_final_status must be canceled, unpaid or past_due", param="dunning_final_status"
            )
        e.settings["dunning_final_status"] = p["dunning_final_status"]
    return {"object": "local.settings", **e.settings}


@route("POST", r"/_local/disputes")
def local_disputes_create(e: Engine, p: Obj) -> Obj:
    """Disputes a succeeded charge, as its card's issuer would (Stripe: the 0259 test card)."""
    check_known(p, frozenset({"charge", "reason", "inquiry"}))
    charge = e.get("charge", require(p, "charge"), param="charge")
    inquiry = as_bool(p.get("inquiry", False), param="inquiry")
    return e.create_dispute(charge, reason=str(p.get("reason") or "fraudulent"), inquiry=inquiry)


@route("GET", r"/_local/deliveries")
def local_deliveries(e: Engine, p: Obj) -> Obj:
    return {
        "object": "list",
        "data": copy.deepcopy(e.deliveries),
        "has_more": False,
        "url": "/_local/deliveries",
    }
