"""Customers, their balance transactions and their payment-method lists."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError, not_found
from ..params import ParamError, as_dict, as_int, as_list, require
from ._common import LIST, allow, created_filter, list_objects, metadata_update, route, search

CUSTOMER_FIELDS = "address description email metadata name phone preferred_locales shipping tax_exempt invoice_settings balance"


def customer_changes(e: Engine, p: Obj, customer: Obj | None) -> Obj:
    changes: Obj = {}
    for key in ("address", "shipping"):
        if key in p:
            changes[key] = None if p[key] == "" else as_dict(p[key], param=key)
    for key in ("description", "email", "name", "phone"):
        if key in p:
            changes[key] = p[key] or None
    if "preferred_locales" in p:
        changes["preferred_locales"] = as_list(p["preferred_locales"], param="preferred_locales")
    if "tax_exempt" in p:
        if p["tax_exempt"] not in ("none", "exempt", "reverse"):
            raise ParamError("Invalid tax_exempt", param="tax_exempt")
        changes["tax_exempt"] = p["tax_exempt"]
    if "metadata" in p:
        changes["metadata"] = metadata_update(customer["metadata"] if customer else {}, p["metadata"])
    return changes


@route("POST", r"/v1/customers")
def customers_create(e: Engine, p: Obj) -> Obj:
    allow(p, CUSTOMER_FIELDS + " payment_method source coupon promotion_code test_clock tax_id_data")
    cus_id = e.new_id("cus")
    customer: Obj = {
        "id": cus_id,
        "object": "customer",
        "address": None,
        "balance": as_int(p.get("balance", 0), param="balance"),
        "created": e.now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": e.secret("prefix", cus_id)[:8].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    customer.update(customer_changes(e, p, None))
    e.created(customer)
    e.emit("customer.created", customer)
    pm_ref = p.get("payment_method")
    settings = as_dict(p.get("invoice_settings", {}), param="invoice_settings")
    if pm_ref:
        pm = e.attach(e.payment_method_for(pm_ref), customer)
        if settings.get("default_payment_method") == pm_ref:
            settings["default_payment_method"] = pm["id"]
    if settings:
        customer_invoice_settings(e, customer, settings)
    _customer_discount(e, p, customer)
    return customer


def _customer_discount(e: Engine, p: Obj, customer: Obj) -> None:
    """``coupon`` or ``promotion_code``: the customer's own discount."""
    if p.get("coupon") or p.get("promotion_code"):
        discount = e.make_discount(
            coupon_id=p.get("coupon") or None,
            promotion_code_id=p.get("promotion_code") or None,
            customer=customer["id"],
            param="coupon",
        )
        e.update(customer, {"discount": copy.deepcopy(discount)})


def customer_invoice_settings(e: Engine, customer: Obj, settings: Obj) -> None:
    new = dict(customer["invoice_settings"])
    for key, value in settings.items():
        if key not in new:
            raise ParamError(
                f"Received unknown parameter: invoice_settings[{key}]",
                param=f"invoice_settings[{key}]",
                code="parameter_unknown",
            )
        if key == "default_payment_method" and value:
            pm = e.get("payment_method", value, param="invoice_settings[default_payment_method]")
            if pm["customer"] != customer["id"]:
                raise StripeError(
                    400,
                    f"The customer does not have a payment method with the ID {value}. The payment method must be attached to the customer.",
                    code="resource_missing",
                    param="invoice_settings[default_payment_method]",
                )
        new[key] = value or None
    e.update(customer, {"invoice_settings": new})


@route("GET", r"/v1/customers")
def customers_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "customer", "/v1/customers", equal="email", extra="test_clock", live=True)


@route("GET", r"/v1/customers/search")
def customers_search(e: Engine, p: Obj) -> Obj:
    return search(e, "customer", p, "/v1/customers/search")


@route("GET", r"/v1/customers/{id}")
def customers_retrieve(e: Engine, p: Obj, cus_id: str) -> Obj:
    customer = e.find("customer", cus_id)
    if customer is None:
        raise not_found("customer", cus_id)
    if customer.get("deleted"):
        return {"id": cus_id, "object": "customer", "deleted": True}
    return customer


@route("POST", r"/v1/customers/{id}")
def customers_update(e: Engine, p: Obj, cus_id: str) -> Obj:
    allow(p, CUSTOMER_FIELDS + " default_source coupon promotion_code source")
    customer = e.get("customer", cus_id)
    changes = customer_changes(e, p, customer)
    if "balance" in p:
        changes["balance"] = as_int(p["balance"], param="balance")
    e.update(customer, changes)
    if "invoice_settings" in p:
        customer_invoice_settings(e, customer, as_dict(p["invoice_settings"], param="invoice_settings"))
    _customer_discount(e, p, customer)
    return customer


@route("DELETE", r"/v1/customers/{id}")
def customers_delete(e: Engine, p: Obj, cus_id: str) -> Obj:
    customer = e.get("customer", cus_id)
    for sub in e.all("subscription"):
        if sub["customer"] == cus_id and sub["status"] not in ("canceled", "incomplete_expired"):
            e.cancel_subscription(sub)
    e.emit("customer.deleted", customer)
    customer["deleted"] = True
    return {"id": cus_id, "object": "customer", "deleted": True}


@route("DELETE", r"/v1/customers/{id}/discount")
def customers_discount_delete(e: Engine, p: Obj, cus_id: str) -> Obj:
    customer = e.get("customer", cus_id)
    discount = customer["discount"]
    if not discount:
        raise StripeError(404, f"No active discount for customer: '{cus_id}'", code="resource_missing")
    e.update(customer, {"discount": None})
    return {
        "id": discount["id"],
        "object": "discount",
        "deleted": True,
        "checkout_session": None,
        "coupon": discount["coupon"],
        "customer": cus_id,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": discount["promotion_code"],
        "start": discount["start"],
        "subscription": None,
        "subscription_item": None,
    }


@route("POST", r"/v1/customers/{id}/balance_transactions")
def customer_balance_create(e: Engine, p: Obj, cus_id: str) -> Obj:
    allow(p, "amount currency description metadata")
    customer = e.get("customer", cus_id)
    amount = as_int(require(p, "amount"), param="amount")
    require(p, "currency")
    return e.customer_balance_change(
        customer,
        amount=amount,
        kind="adjustment",
        description=p.get("description") or None,
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
    )


@route("GET", r"/v1/customers/{id}/balance_transactions")
def customer_balance_list(e: Engine, p: Obj, cus_id: str) -> Obj:
    allow(p, LIST + " invoice")
    e.get("customer", cus_id)
    items = [t for t in e.all("customer_balance_transaction") if t["customer"] == cus_id]
    return e.paginate(created_filter(items, p), p, f"/v1/customers/{cus_id}/balance_transactions")


@route("GET", r"/v1/customers/{id}/balance_transactions/{id}")
def customer_balance_retrieve(e: Engine, p: Obj, cus_id: str, txn_id: str) -> Obj:
    txn = e.get("customer_balance_transaction", txn_id, label="customer balance transaction")
    if txn["customer"] != cus_id:
        raise not_found("customer balance transaction", txn_id)
    return txn


@route("GET", r"/v1/customers/{id}/payment_methods")
def customer_payment_methods(e: Engine, p: Obj, cus_id: str) -> Obj:
    allow(p, LIST + " type allow_redisplay")
    e.get("customer", cus_id)
    items = [
        pm
        for pm in e.all("payment_method")
        if pm["customer"] == cus_id and p.get("type") in (None, "", pm["type"])
    ]
    return e.paginate(items, p, f"/v1/customers/{cus_id}/payment_methods")


@route("GET", r"/v1/customers/{id}/payment_methods/{id}")
def customer_payment_method(e: Engine, p: Obj, cus_id: str, pm_id: str) -> Obj:
    pm = e.get("payment_method", pm_id)
    if pm["customer"] != cus_id:
        raise not_found("payment method", pm_id)
    return pm


@route("GET", r"/v1/customers/{id}/(sources|tax_ids)")
def customer_empty_lists(e: Engine, p: Obj, cus_id: str, what: str) -> Obj:
    e.get("customer", cus_id)
    return e.list_obj([], f"/v1/customers/{cus_id}/{what}")
