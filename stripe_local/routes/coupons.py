"""Coupons and promotion codes."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict, as_float, as_int, require
from ._common import LIST, allow, list_objects, metadata_update, route


@route("POST", r"/v1/coupons")
def coupons_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "id amount_off currency duration duration_in_months max_redemptions metadata name percent_off redeem_by applies_to",
    )
    if "percent_off" not in p and "amount_off" not in p:
        raise ParamError(
            "Missing required param: percent_off or amount_off.",
            param="percent_off",
            code="parameter_missing",
        )
    duration = p.get("duration", "once")
    if duration not in ("once", "repeating", "forever"):
        raise ParamError("Invalid duration: must be one of forever, once, or repeating", param="duration")
    if duration == "repeating" and not p.get("duration_in_months"):
        raise ParamError(
            "Missing required param: duration_in_months.",
            param="duration_in_months",
            code="parameter_missing",
        )
    coupon_id = p.get("id") or e.secret("coupon", str(e.counters.get("coupon", 0)))[:8].upper()
    e.counters["coupon"] = e.counters.get("coupon", 0) + 1
    if e.find("coupon", coupon_id):
        raise StripeError(400, "Coupon already exists.", code="resource_already_exists", param="id")
    percent = as_float(p["percent_off"], param="percent_off") if "percent_off" in p else None
    if percent is not None and not 0 < percent <= 100:
        raise ParamError("Invalid percent_off: must be between 0 and 100", param="percent_off")
    coupon = {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": as_int(p["amount_off"], param="amount_off") if "amount_off" in p else None,
        "created": e.now,
        "currency": p.get("currency") or ("usd" if "amount_off" in p else None),
        "duration": duration,
        "duration_in_months": as_int(p["duration_in_months"], param="duration_in_months")
        if p.get("duration_in_months")
        else None,
        "livemode": False,
        "max_redemptions": as_int(p["max_redemptions"], param="max_redemptions")
        if p.get("max_redemptions")
        else None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "name": p.get("name") or None,
        "percent_off": percent,
        "redeem_by": as_int(p["redeem_by"], param="redeem_by") if p.get("redeem_by") else None,
        "times_redeemed": 0,
        "valid": True,
    }
    e.put(coupon)
    e.m(coupon_id)["seq"] = e.counters.get("_seq", 0) + 1
    e.counters["_seq"] = e.m(coupon_id)["seq"]
    e.emit("coupon.created", coupon)
    return coupon


@route("GET", r"/v1/coupons")
def coupons_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "coupon", "/v1/coupons", live=True, created=False)


@route("GET", r"/v1/coupons/{id}")
def coupons_retrieve(e: Engine, p: Obj, coupon_id: str) -> Obj:
    return e.get("coupon", coupon_id)


@route("POST", r"/v1/coupons/{id}")
def coupons_update(e: Engine, p: Obj, coupon_id: str) -> Obj:
    allow(p, "metadata name")
    coupon = e.get("coupon", coupon_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(coupon["metadata"], p["metadata"])
    if "name" in p:
        changes["name"] = p["name"] or None
    return e.update(coupon, changes)


@route("DELETE", r"/v1/coupons/{id}")
def coupons_delete(e: Engine, p: Obj, coupon_id: str) -> Obj:
    coupon = e.get("coupon", coupon_id)
    e.emit("coupon.deleted", coupon)
    coupon["deleted"] = True
    return {"id": coupon_id, "object": "coupon", "deleted": True}


@route("POST", r"/v1/promotion_codes")
def promotion_codes_create(e: Engine, p: Obj) -> Obj:
    allow(p, "coupon code active customer expires_at max_redemptions metadata restrictions")
    coupon = e.get("coupon", require(p, "coupon"), param="coupon")
    code = p.get("code") or e.secret("promo", str(e.counters.get("promo", 0)))[:8].upper()
    if any(pc["code"].lower() == code.lower() and pc["active"] for pc in e.all("promotion_code")):
        raise StripeError(
            400,
            "An active promotion code with `code: " + code + "` already exists.",
            code="resource_already_exists",
            param="code",
        )
    restrictions = as_dict(p.get("restrictions", {}), param="restrictions")
    promo = {
        "id": e.new_id("promo"),
        "object": "promotion_code",
        "active": as_bool(p.get("active", True), param="active"),
        "code": code,
        "coupon": copy.deepcopy(coupon),
        "created": e.now,
        "customer": p.get("customer") or None,
        "expires_at": as_int(p["expires_at"], param="expires_at") if p.get("expires_at") else None,
        "livemode": False,
        "max_redemptions": as_int(p["max_redemptions"], param="max_redemptions")
        if p.get("max_redemptions")
        else None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "restrictions": {
            "first_time_transaction": as_bool(
                restrictions.get("first_time_transaction", False),
                param="restrictions[first_time_transaction]",
            ),
            "minimum_amount": None,
            "minimum_amount_currency": None,
        },
        "times_redeemed": 0,
    }
    e.created(promo)
    e.emit("promotion_code.created", promo)
    return promo


@route("GET", r"/v1/promotion_codes")
def promotion_codes_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " code coupon active customer")
    items = e.all("promotion_code")
    if p.get("code"):
        items = [pc for pc in items if pc["code"].lower() == str(p["code"]).lower()]
    if p.get("coupon"):
        items = [pc for pc in items if pc["coupon"]["id"] == p["coupon"]]
    if "active" in p:
        items = [pc for pc in items if pc["active"] == as_bool(p["active"], param="active")]
    return e.paginate(items, p, "/v1/promotion_codes")


@route("GET", r"/v1/promotion_codes/{id}")
def promotion_codes_retrieve(e: Engine, p: Obj, promo_id: str) -> Obj:
    return e.get("promotion_code", promo_id, label="promotion code")


@route("POST", r"/v1/promotion_codes/{id}")
def promotion_codes_update(e: Engine, p: Obj, promo_id: str) -> Obj:
    allow(p, "active metadata restrictions")
    promo = e.get("promotion_code", promo_id, label="promotion code")
    changes: Obj = {}
    if "active" in p:
        changes["active"] = as_bool(p["active"], param="active")
    if "metadata" in p:
        changes["metadata"] = metadata_update(promo["metadata"], p["metadata"])
    return e.update(promo, changes)
