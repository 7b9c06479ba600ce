"""Stripe's REST endpoints, one small function each, on top of the engine.

A handler gets the engine, the decoded parameters and the path's ids, and returns the object to
send (200) or ``(status, object)``. The server applies ``expand[]`` and the error shape.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from .engine import ACCOUNT_ID, API_VERSION, CHECKOUT_EXPIRES_SECONDS, Engine, Obj, StripeError, not_found
from .params import ParamError, as_bool, as_dict, as_float, as_int, as_list, check_known, require

Handler = Callable[..., Any]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
ID = r"([A-Za-z0-9_\-]+)"


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        ROUTES.append((method, re.compile("^" + pattern.replace("{id}", ID) + "$"), func))
        return func

    return register


def allow(p: Obj, names: str) -> None:
    check_known(p, frozenset(names.split()))


def metadata_update(current: Obj, value: Any) -> Obj:
    """Stripe merges metadata; ``metadata[k]=`` removes a key and ``metadata=`` clears all."""
    if value == "":
        return {}
    result = dict(current)
    for key, item in as_dict(value, param="metadata").items():
        if item == "":
            result.pop(key, None)
        else:
            result[key] = str(item)
    return result


def search(e: Engine, kind: str, p: Obj, url: str) -> Obj:
    """Stripe's search query language, the common subset: ``field:'v'``, ``~``, ``>``/``<``, AND/OR,
    ``metadata['k']:'v'`` and ``-`` negation."""
    allow(p, "query limit page")
    query = str(require(p, "query"))
    joiner = "OR" if " OR " in query else "AND"
    clauses = [c.strip() for c in query.split(f" {joiner} ") if c.strip()]
    pattern = re.compile(r"^(-?)([a-z_.]+(?:\['[^']+'\])?)(:|~|>=|<=|>|<)(?:'([^']*)'|\"([^\"]*)\"|(\S+))$")
    tests = []
    for clause in clauses:
        match = pattern.match(clause)
        if not match:
            raise StripeError(400, f"Invalid query: {clause}", code="parameter_invalid", param="query")
        negate, field, op, v1, v2, v3 = match.groups()
        tests.append((negate == "-", field, op, v1 if v1 is not None else v2 if v2 is not None else v3))

    def value_of(obj: Obj, field: str) -> Any:
        meta = re.match(r"metadata\['([^']+)'\]", field)
        if meta:
            return obj.get("metadata", {}).get(meta.group(1))
        if field == "product" and obj.get("object") == "subscription":
            return None
        return obj.get(field)

    def check(obj: Obj, negate: bool, field: str, op: str, wanted: str) -> bool:
        value = value_of(obj, field)
        if op == ":":
            if isinstance(value, bool):
                ok = str(value).lower() == wanted.lower()
            else:
                ok = value is not None and str(value).lower() == wanted.lower()
        elif op == "~":
            ok = value is not None and wanted.lower() in str(value).lower()
        else:
            try:
                number, target = float(value), float(wanted)
            except (TypeError, ValueError):
                return False
            ok = {">": number > target, "<": number < target, ">=": number >= target, "<=": number <= target}[
                op
            ]
        return ok != negate

    combine = any if joiner == "OR" else all
    found = [o for o in e.all(kind) if not o.get("deleted") and combine(check(o, *t) for t in tests)]
    listed = e.paginate(found, {"limit": p.get("limit", 10)}, url)
    return {
        "object": "search_result",
        "data": listed["data"],
        "has_more": listed["has_more"],
        "next_page": None,
        "url": url,
    }


def created_filter(items: list[Obj], p: Obj) -> list[Obj]:
    created = p.get("created")
    if created in (None, ""):
        return items
    if not isinstance(created, dict):
        stamp = as_int(created, param="created")
        return [o for o in items if o["created"] == stamp]
    ops = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    for op, raw in created.items():
        if op not in ops:
            raise ParamError(
                f"Received unknown parameter: created[{op}]", param=f"created[{op}]", code="parameter_unknown"
            )
        bound = as_int(raw, param=f"created[{op}]")
        items = [o for o in items if ops[op](o["created"], bound)]
    return items


LIST = "limit starting_after ending_before created"


# --- account ----------------------------------------------------------------------------------
def account_object(e: Engine) -> Obj:
    return {
        "id": ACCOUNT_ID,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "name": "Relay (local Stripe)",
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": 1700000000,
        "default_currency": "usd",
        "details_submitted": True,
        "email": "billing@relay.localhost",
        "external_accounts": e.list_obj([], f"/v1/accounts/{ACCOUNT_ID}/external_accounts"),
        "future_requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": [],
            "disabled_reason": None,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "metadata": {},
        "payouts_enabled": True,
        "requirements": {
            "alternatives": [],
            "current_deadline": None,
            "currently_due": [],
            "disabled_reason": None,
            "errors": [],
            "eventually_due": [],
            "past_due": [],
            "pending_verification": [],
        },
        "settings": {
            "bacs_debit_payments": {"display_name": None, "service_user_number": None},
            "branding": {"icon": None, "logo": None, "primary_color": None, "secondary_color": None},
            "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": "Relay (local Stripe)", "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": None},
            "payments": {
                "statement_descriptor": "RELAY",
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


@route("GET", r"/v1/account")
def account_retrieve(e: Engine, p: Obj) -> Obj:
    return account_object(e)


@route("GET", r"/v1/accounts/{id}")
def accounts_retrieve(e: Engine, p: Obj, account_id: str) -> Obj:
    if account_id != ACCOUNT_ID:
        raise not_found("account", account_id)
    return account_object(e)


# --- customers --------------------------------------------------------------------------------
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
    if p.get("coupon") or p.get("promotion_code"):
        discount = e.make_discount(
            coupon_id=p.get("coupon") or None,
            promotion_code_id=p.get("promotion_code") or None,
            customer=cus_id,
            param="coupon",
        )
        e.update(customer, {"discount": copy.deepcopy(discount)})
    return customer


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
    allow(p, LIST + " email test_clock")
    items = [c for c in e.all("customer") if not c.get("deleted")]
    if p.get("email"):
        items = [c for c in items if c["email"] == p["email"]]
    return e.paginate(created_filter(items, p), p, "/v1/customers")


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
    if p.get("coupon") or p.get("promotion_code"):
        discount = e.make_discount(
            coupon_id=p.get("coupon") or None,
            promotion_code_id=p.get("promotion_code") or None,
            customer=cus_id,
            param="coupon",
        )
        e.update(customer, {"discount": copy.deepcopy(discount)})
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


# --- products, features, prices -----------------------------------------------------------
PRODUCT_FIELDS = "active description images marketing_features metadata name package_dimensions shippable statement_descriptor tax_code unit_label url"


def product_changes(p: Obj, product: Obj | None) -> Obj:
    changes: Obj = {}
    if "active" in p:
        changes["active"] = as_bool(p["active"], param="active")
    for key in ("description", "statement_descriptor", "tax_code", "unit_label", "url"):
        if key in p:
            changes[key] = p[key] or None
    if "name" in p:
        if not p["name"]:
            raise ParamError("Missing required param: name.", param="name", code="parameter_missing")
        changes["name"] = p["name"]
    if "images" in p:
        changes["images"] = as_list(p["images"], param="images")
    if "marketing_features" in p:
        changes["marketing_features"] = [
            {"name": f.get("name")} for f in as_list(p["marketing_features"], param="marketing_features")
        ]
    if "shippable" in p:
        changes["shippable"] = as_bool(p["shippable"], param="shippable")
    if "metadata" in p:
        changes["metadata"] = metadata_update(product["metadata"] if product else {}, p["metadata"])
    return changes


@route("POST", r"/v1/products")
def products_create(e: Engine, p: Obj) -> Obj:
    allow(p, PRODUCT_FIELDS + " id default_price_data type")
    require(p, "name")
    product_id = p.get("id") or e.new_id("prod")
    if e.find("product", product_id):
        raise StripeError(400, "Product already exists.", code="resource_already_exists", param="id")
    product: Obj = {
        "id": product_id,
        "object": "product",
        "active": True,
        "created": e.now,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": p["name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": None,
        "updated": e.now,
        "url": None,
        "type": "service",
    }
    product.update(product_changes(p, None))
    e.created(product)
    e.emit("product.created", product)
    if p.get("default_price_data"):
        data = as_dict(p["default_price_data"], param="default_price_data")
        price = prices_create(e, {**data, "product": product_id})
        e.update(product, {"default_price": price["id"]})
    return product


@route("GET", r"/v1/products")
def products_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " active ids shippable url type")
    items = [o for o in e.all("product") if not o.get("deleted")]
    if "active" in p:
        items = [o for o in items if o["active"] == as_bool(p["active"], param="active")]
    if p.get("ids"):
        wanted = set(as_list(p["ids"], param="ids"))
        items = [o for o in items if o["id"] in wanted]
    return e.paginate(created_filter(items, p), p, "/v1/products")


@route("GET", r"/v1/products/search")
def products_search(e: Engine, p: Obj) -> Obj:
    return search(e, "product", p, "/v1/products/search")


@route("GET", r"/v1/products/{id}")
def products_retrieve(e: Engine, p: Obj, product_id: str) -> Obj:
    return e.get("product", product_id)


@route("POST", r"/v1/products/{id}")
def products_update(e: Engine, p: Obj, product_id: str) -> Obj:
    allow(p, PRODUCT_FIELDS + " default_price")
    product = e.get("product", product_id)
    changes = product_changes(p, product)
    if "default_price" in p:
        if p["default_price"]:
            e.get("price", p["default_price"], param="default_price")
        changes["default_price"] = p["default_price"] or None
    if changes:
        changes["updated"] = e.now
    return e.update(product, changes)


@route("DELETE", r"/v1/products/{id}")
def products_delete(e: Engine, p: Obj, product_id: str) -> Obj:
    product = e.get("product", product_id)
    if any(price["product"] == product_id for price in e.all("price")):
        raise StripeError(
            400,
            "This product cannot be deleted because it has one or more user-created prices.",
            code="resource_in_use",
            param="id",
        )
    e.emit("product.deleted", product)
    product["deleted"] = True
    return {"id": product_id, "object": "product", "deleted": True}


@route("POST", r"/v1/entitlements/features")
def features_create(e: Engine, p: Obj) -> Obj:
    allow(p, "lookup_key metadata name")
    require(p, "name")
    key = require(p, "lookup_key")
    if any(f["lookup_key"] == key for f in e.all("entitlements.feature")):
        raise StripeError(
            400,
            f"A feature with lookup_key {key} already exists.",
            code="resource_already_exists",
            param="lookup_key",
        )
    feature = {
        "id": e.new_id("feat_test").replace("feat_test_", "feat_test_61"),
        "object": "entitlements.feature",
        "active": True,
        "livemode": False,
        "lookup_key": key,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "name": p["name"],
    }
    return e.created(feature)


@route("GET", r"/v1/entitlements/features")
def features_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " lookup_key archived")
    items = e.all("entitlements.feature")
    if p.get("lookup_key"):
        items = [f for f in items if f["lookup_key"] == p["lookup_key"]]
    return e.paginate(items, p, "/v1/entitlements/features")


@route("GET", r"/v1/entitlements/features/{id}")
def features_retrieve(e: Engine, p: Obj, feature_id: str) -> Obj:
    return e.get("entitlements.feature", feature_id, label="feature")


@route("POST", r"/v1/products/{id}/features")
def product_features_create(e: Engine, p: Obj, product_id: str) -> Obj:
    allow(p, "entitlement_feature")
    e.get("product", product_id)
    feature = e.get(
        "entitlements.feature",
        require(p, "entitlement_feature"),
        param="entitlement_feature",
        label="feature",
    )
    attachment: Obj = {
        "id": e.new_id("prodft"),
        "object": "product_feature",
        "entitlement_feature": copy.deepcopy(feature),
        "livemode": False,
    }
    e.m(attachment["id"])["product"] = product_id
    return e.created(attachment)


@route("GET", r"/v1/products/{id}/features")
def product_features_list(e: Engine, p: Obj, product_id: str) -> Obj:
    allow(p, LIST)
    e.get("product", product_id)
    items = [
        f
        for f in e.all("product_feature")
        if e.m(f["id"]).get("product") == product_id and not f.get("deleted")
    ]
    return e.paginate(items, p, f"/v1/products/{product_id}/features")


@route("GET", r"/v1/products/{id}/features/{id}")
def product_features_retrieve(e: Engine, p: Obj, product_id: str, attachment_id: str) -> Obj:
    return e.get("product_feature", attachment_id, label="product feature")


@route("DELETE", r"/v1/products/{id}/features/{id}")
def product_features_delete(e: Engine, p: Obj, product_id: str, attachment_id: str) -> Obj:
    attachment = e.get("product_feature", attachment_id, label="product feature")
    attachment["deleted"] = True
    return {"id": attachment_id, "object": "product_feature", "deleted": True}


PRICE_FIELDS = "active metadata nickname lookup_key transfer_lookup_key tax_behavior"


def take_lookup_key(e: Engine, key: str, transfer: bool, price_id: str) -> None:
    for other in e.all("price"):
        if other["lookup_key"] == key and other["id"] != price_id:
            if not transfer:
                raise StripeError(
                    400,
                    f"A price (`{other['id']}`) already uses that lookup key.",
                    code="lookup_key_already_exists",
                    param="lookup_key",
                )
            e.update(other, {"lookup_key": None})


@route("POST", r"/v1/prices")
def prices_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        PRICE_FIELDS
        + " currency unit_amount unit_amount_decimal product product_data recurring billing_scheme custom_unit_amount",
    )
    currency = str(require(p, "currency")).lower()
    if "product" in p:
        product = e.get("product", p["product"], param="product")
    elif "product_data" in p:
        product = products_create(e, as_dict(p["product_data"], param="product_data"))
    else:
        raise ParamError("Missing required param: product.", param="product", code="parameter_missing")
    if "unit_amount" in p:
        unit_amount = as_int(p["unit_amount"], param="unit_amount")
    elif "unit_amount_decimal" in p:
        unit_amount = int(as_float(p["unit_amount_decimal"], param="unit_amount_decimal"))
    else:
        raise ParamError(
            "Missing required param: unit_amount.", param="unit_amount", code="parameter_missing"
        )
    if unit_amount < 0:
        raise ParamError("Invalid non-negative integer", param="unit_amount")
    recurring = None
    if p.get("recurring"):
        r = as_dict(p["recurring"], param="recurring")
        interval = r.get("interval")
        if interval not in ("day", "week", "month", "year"):
            raise ParamError(
                "Invalid recurring[interval]: must be one of day, month, week, or year",
                param="recurring[interval]",
            )
        recurring = {
            "aggregate_usage": None,
            "interval": interval,
            "interval_count": as_int(r.get("interval_count", 1), param="recurring[interval_count]"),
            "meter": None,
            "usage_type": r.get("usage_type", "licensed"),
            "trial_period_days": as_int(r["trial_period_days"], param="recurring[trial_period_days]")
            if r.get("trial_period_days")
            else None,
        }
    price_id = e.new_id("price")
    if p.get("lookup_key"):
        take_lookup_key(
            e,
            p["lookup_key"],
            as_bool(p.get("transfer_lookup_key", False), param="transfer_lookup_key"),
            price_id,
        )
    price = {
        "id": price_id,
        "object": "price",
        "active": as_bool(p.get("active", True), param="active"),
        "billing_scheme": p.get("billing_scheme", "per_unit"),
        "created": e.now,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": p.get("lookup_key") or None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "nickname": p.get("nickname") or None,
        "product": product["id"],
        "recurring": recurring,
        "tax_behavior": p.get("tax_behavior", "unspecified"),
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    e.created(price)
    e.emit("price.created", price)
    if recurring:
        plan = e.plan_from_price(price)
        assert plan is not None  # noqa: S101 - recurring prices always have a plan
        e.emit("plan.created", plan)
    return price


@route("GET", r"/v1/prices")
def prices_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " active currency lookup_keys product recurring type")
    items = e.all("price")
    if "active" in p:
        items = [o for o in items if o["active"] == as_bool(p["active"], param="active")]
    if p.get("product"):
        items = [o for o in items if o["product"] == p["product"]]
    if p.get("currency"):
        items = [o for o in items if o["currency"] == p["currency"]]
    if p.get("type"):
        items = [o for o in items if o["type"] == p["type"]]
    if p.get("lookup_keys"):
        keys = set(as_list(p["lookup_keys"], param="lookup_keys"))
        items = [o for o in items if o["lookup_key"] in keys]
    if p.get("recurring"):
        r = as_dict(p["recurring"], param="recurring")
        items = [o for o in items if o["recurring"] and all(o["recurring"].get(k) == v for k, v in r.items())]
    return e.paginate(created_filter(items, p), p, "/v1/prices")


@route("GET", r"/v1/prices/search")
def prices_search(e: Engine, p: Obj) -> Obj:
    return search(e, "price", p, "/v1/prices/search")


@route("GET", r"/v1/prices/{id}")
def prices_retrieve(e: Engine, p: Obj, price_id: str) -> Obj:
    return e.get("price", price_id)


@route("POST", r"/v1/prices/{id}")
def prices_update(e: Engine, p: Obj, price_id: str) -> Obj:
    allow(p, PRICE_FIELDS)
    price = e.get("price", price_id)
    changes: Obj = {}
    if "active" in p:
        changes["active"] = as_bool(p["active"], param="active")
    if "nickname" in p:
        changes["nickname"] = p["nickname"] or None
    if "metadata" in p:
        changes["metadata"] = metadata_update(price["metadata"], p["metadata"])
    if "lookup_key" in p:
        if p["lookup_key"]:
            take_lookup_key(
                e,
                p["lookup_key"],
                as_bool(p.get("transfer_lookup_key", False), param="transfer_lookup_key"),
                price_id,
            )
        changes["lookup_key"] = p["lookup_key"] or None
    return e.update(price, changes)


@route("GET", r"/v1/plans/{id}")
def plans_retrieve(e: Engine, p: Obj, plan_id: str) -> Obj:
    plan = e.plan_from_price(e.get("price", plan_id, label="plan"))
    if plan is None:
        raise not_found("plan", plan_id)
    return plan


@route("GET", r"/v1/plans")
def plans_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " active product")
    prices = [price for price in e.all("price") if price["recurring"]]
    listed = e.paginate(prices, p, "/v1/plans")
    listed["data"] = [e.plan_from_price(price) for price in listed["data"]]
    return listed


# --- payment methods --------------------------------------------------------------------------
@route("POST", r"/v1/payment_methods")
def payment_methods_create(e: Engine, p: Obj) -> Obj:
    allow(p, "type card billing_details metadata allow_redisplay customer payment_method")
    if p.get("type", "card") != "card":
        raise ParamError("Only type=card is supported by the local stand-in.", param="type")
    require(p, "card")
    return e.make_payment_method(
        as_dict(p["card"], param="card"),
        billing_details=as_dict(p.get("billing_details", {}), param="billing_details"),
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
    )


@route("GET", r"/v1/payment_methods")
def payment_methods_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer type")
    items = [
        pm
        for pm in e.all("payment_method")
        if pm["customer"] and (not p.get("customer") or pm["customer"] == p["customer"])
    ]
    return e.paginate(items, p, "/v1/payment_methods")


@route("GET", r"/v1/payment_methods/{id}")
def payment_methods_retrieve(e: Engine, p: Obj, pm_id: str) -> Obj:
    return e.get("payment_method", pm_id)


@route("POST", r"/v1/payment_methods/{id}")
def payment_methods_update(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "billing_details metadata card allow_redisplay")
    pm = e.get("payment_method", pm_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(pm["metadata"], p["metadata"])
    if "billing_details" in p:
        details = dict(pm["billing_details"])
        for key, value in as_dict(p["billing_details"], param="billing_details").items():
            if key in details and key != "address":
                details[key] = value or None
        changes["billing_details"] = details
    if "card" in p:
        card = dict(pm["card"])
        for key in ("exp_month", "exp_year"):
            if key in p["card"]:
                card[key] = as_int(p["card"][key], param=f"card[{key}]")
        changes["card"] = card
    return e.update(pm, changes)


@route("POST", r"/v1/payment_methods/{id}/attach")
def payment_methods_attach(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "customer")
    customer = e.get("customer", require(p, "customer"), param="customer")
    pm = e.payment_method_for(pm_id)
    return e.attach(pm, customer)


@route("POST", r"/v1/payment_methods/{id}/detach")
def payment_methods_detach(e: Engine, p: Obj, pm_id: str) -> Obj:
    allow(p, "")
    pm = e.get("payment_method", pm_id)
    if not pm["customer"]:
        raise StripeError(
            400,
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            code="payment_method_unexpected_state",
        )
    customer = e.find("customer", pm["customer"])
    previous = {"customer": pm["customer"]}
    pm["customer"] = None
    e.emit("payment_method.detached", pm, previous)
    if customer and customer["invoice_settings"]["default_payment_method"] == pm_id:
        e.update(
            customer, {"invoice_settings": {**customer["invoice_settings"], "default_payment_method": None}}
        )
    return pm


# --- subscriptions ----------------------------------------------------------------------------
SUB_COMMON = "metadata default_payment_method description coupon promotion_code discounts cancel_at_period_end cancel_at trial_end proration_behavior payment_behavior collection_method days_until_due off_session payment_settings trial_settings billing_cycle_anchor default_tax_rates automatic_tax add_invoice_items"


def refuse_unsupported(p: Obj) -> None:
    """Parameters Stripe accepts but the stand-in does not model: refuse them rather than ignore
    them silently (harmless defaults pass)."""
    defaults: dict[str, set[Any]] = {
        "collection_method": {"charge_automatically"},
        "pause_collection": {""},
        "days_until_due": set(),
        "add_invoice_items": set(),
        "default_tax_rates": {""},
        "billing_cycle_anchor": {"unchanged"},
        "backdate_start_date": set(),
        "trial_from_plan": {"false"},
        "currency": {"usd"},
    }
    for name, allowed in defaults.items():
        if name in p and p[name] not in allowed:
            raise StripeError(
                400,
                f"The local Stripe stand-in does not support `{name}` (see stripe_local/README.md).",
                code="parameter_unsupported",
                param=name,
            )
    if as_dict(p.get("automatic_tax", {}), param="automatic_tax").get("enabled") in ("true", True):
        raise StripeError(
            400,
            "The local Stripe stand-in does not compute taxes.",
            code="parameter_unsupported",
            param="automatic_tax[enabled]",
        )


def subscription_discounts(e: Engine, p: Obj, customer_id: str, sub_id: str) -> list[Obj] | None:
    if p.get("coupon") or p.get("promotion_code"):
        return [
            e.make_discount(
                coupon_id=p.get("coupon") or None,
                promotion_code_id=p.get("promotion_code") or None,
                customer=customer_id,
                subscription=sub_id,
                param="coupon" if p.get("coupon") else "promotion_code",
            )
        ]
    if "discounts" in p:
        return e.discounts_from_params(
            as_list(p["discounts"], param="discounts"), customer=customer_id, subscription=sub_id
        )
    return None


def create_subscription(  # noqa: C901, PLR0912  one Stripe operation's many optional parameters, read in Stripe's order
    e: Engine,
    *,
    customer: Obj,
    items: list[Obj],
    metadata: Obj,
    trial_end: int | None,
    default_payment_method: str | None,
    payment_behavior: str,
    discounts: list[Obj] | None = None,
    description: str | None = None,
    cancel_at_period_end: bool = False,
    discount_factory: Callable[[str], list[Obj] | None] | None = None,
    trial_end_behavior: str = "create_invoice",
) -> tuple[Obj, StripeError | None]:
    """Create a subscription, its first invoice and the first payment (shared by API and checkout)."""
    sub_id = e.new_id("sub")
    prices = []
    for index, item in enumerate(items):
        price = e.get("price", require(item, "price"), param=f"items[{index}][price]")
        if not price["recurring"]:
            raise StripeError(
                400,
                "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
                param=f"items[{index}][price]",
            )
        if not price["active"]:
            raise StripeError(
                400,
                "The price specified is inactive. This field only accepts active prices.",
                param=f"items[{index}][price]",
            )
        prices.append(
            (
                price,
                as_int(item.get("quantity", 1), param=f"items[{index}][quantity]"),
                item.get("metadata", {}),
            )
        )
    if not prices:
        raise ParamError("Missing required param: items.", param="items", code="parameter_missing")
    if trial_end is not None and trial_end <= e.now:
        raise ParamError(
            "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
        )
    sub: Obj = {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False, "liability": None, "disabled_reason": None},
        "billing_cycle_anchor": trial_end or e.now,
        "billing_cycle_anchor_config": None,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": e.now,
        "currency": prices[0][0]["currency"],
        "current_period_end": 0,
        "current_period_start": e.now,
        "customer": customer["id"],
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discount": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": e.list_obj(
            [
                e.sub_item(subscription_id=sub_id, price=price, quantity=qty, metadata=meta)
                for price, qty, meta in prices
            ],
            f"/v1/subscription_items?subscription={sub_id}",
        ),
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "plan": None,
        "quantity": None,
        "schedule": None,
        "start_date": e.now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": trial_end_behavior}},
        "trial_start": e.now if trial_end else None,
    }
    if len(prices) == 1:
        sub["plan"] = e.plan_from_price(prices[0][0])
        sub["quantity"] = prices[0][1]
    sub["current_period_end"] = trial_end or e.period_end(sub, e.now)
    if discount_factory is not None:
        discounts = discount_factory(sub_id)
    if discounts:
        sub["discount"] = copy.deepcopy(discounts[0])
        sub["discounts"] = [d["id"] for d in discounts]
        for d in discounts:
            d["subscription"] = sub_id
    e.created(sub)
    period = (e.now, sub["current_period_end"])
    if trial_end:
        lines = []
        for item in sub["items"]["data"]:
            product = e.find("product", item["price"]["product"])
            name = product["name"] if product else item["price"]["product"]
            lines.append(
                e.line(
                    invoice_id=None,
                    amount=0,
                    price=item["price"],
                    quantity=item["quantity"],
                    description=f"Trial period for {name}",
                    period=period,
                    subscription=sub_id,
                    subscription_item=item["id"],
                )
            )
        invoice, error = e.invoice_subscription(
            sub, billing_reason="subscription_create", period=period, lines=lines
        )
    else:
        lines = e.cycle_lines(sub, period, None)
        attempt = payment_behavior != "default_incomplete"
        invoice, error = e.invoice_subscription(
            sub,
            billing_reason="subscription_create",
            period=period,
            lines=lines,
            pm_id=default_payment_method,
            attempt=attempt,
        )
        if invoice["status"] == "open":
            # The first invoice of an incomplete subscription is not retried automatically.
            invoice["next_payment_attempt"] = None
    sub["latest_invoice"] = invoice["id"]
    if trial_end:
        sub["status"] = "trialing"
    elif invoice["status"] == "paid":
        sub["status"] = "active"
    if cancel_at_period_end:
        sub.update(
            {"cancel_at_period_end": True, "cancel_at": sub["current_period_end"], "canceled_at": e.now}
        )
    if payment_behavior == "error_if_incomplete" and sub["status"] == "incomplete":
        # Stripe does not keep the subscription when the first payment fails in this mode.
        sub["status"] = "incomplete_expired"
        assert error is not None  # noqa: S101 - incomplete means the payment failed
        raise error
    e.emit("customer.subscription.created", sub)
    return sub, error


@route("POST", r"/v1/subscriptions")
def subscriptions_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        SUB_COMMON + " customer items trial_period_days trial_from_plan expand currency backdate_start_date",
    )
    refuse_unsupported(p)
    customer = e.get("customer", require(p, "customer"), param="customer")
    items = as_list(require(p, "items"), param="items")
    trial_end = None
    if p.get("trial_end"):
        trial_end = None if p["trial_end"] == "now" else as_int(p["trial_end"], param="trial_end")
    elif p.get("trial_period_days"):
        trial_end = e.now + as_int(p["trial_period_days"], param="trial_period_days") * 86400
    pm = p.get("default_payment_method") or None
    if pm:
        pm_obj = e.get("payment_method", pm, param="default_payment_method")
        if pm_obj["customer"] != customer["id"]:
            raise StripeError(
                400,
                f"The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer.",
                code="resource_missing",
                param="default_payment_method",
            )
    behaviour = p.get("payment_behavior", "allow_incomplete")
    if behaviour not in (
        "allow_incomplete",
        "default_incomplete",
        "error_if_incomplete",
        "pending_if_incomplete",
    ):
        raise ParamError("Invalid payment_behavior", param="payment_behavior")
    trial_settings = as_dict(p.get("trial_settings", {}), param="trial_settings")
    end_behavior = as_dict(trial_settings.get("end_behavior", {}), param="trial_settings[end_behavior]").get(
        "missing_payment_method", "create_invoice"
    )
    sub, _error = create_subscription(
        e,
        customer=customer,
        items=[as_dict(i, param="items") for i in items],
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
        trial_end=trial_end,
        default_payment_method=pm,
        payment_behavior=behaviour,
        description=p.get("description") or None,
        cancel_at_period_end=as_bool(p.get("cancel_at_period_end", False), param="cancel_at_period_end"),
        discount_factory=lambda sub_id: subscription_discounts(e, p, customer["id"], sub_id),
        trial_end_behavior=end_behavior,
    )
    return sub


@route("GET", r"/v1/subscriptions")
def subscriptions_list(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        LIST + " customer price status collection_method current_period_end current_period_start test_clock",
    )
    items = e.all("subscription")
    status = p.get("status")
    if status in (None, ""):
        items = [s for s in items if s["status"] not in ("canceled", "incomplete_expired")]
    elif status != "all":
        items = [s for s in items if s["status"] == status]
    if p.get("customer"):
        items = [s for s in items if s["customer"] == p["customer"]]
    if p.get("price"):
        items = [s for s in items if any(i["price"]["id"] == p["price"] for i in s["items"]["data"])]
    return e.paginate(created_filter(items, p), p, "/v1/subscriptions")


@route("GET", r"/v1/subscriptions/search")
def subscriptions_search(e: Engine, p: Obj) -> Obj:
    return search(e, "subscription", p, "/v1/subscriptions/search")


@route("GET", r"/v1/subscriptions/{id}")
def subscriptions_retrieve(e: Engine, p: Obj, sub_id: str) -> Obj:
    return e.get("subscription", sub_id)


def changed_items(
    e: Engine, sub: Obj, entries: list[Any], param: str
) -> tuple[list[Obj], list[tuple[Obj, Obj, int]]]:
    """New item list for ``sub`` and the (old item, new price, quantity) pairs that changed."""
    items = copy.deepcopy(sub["items"]["data"])
    changes: list[tuple[Obj, Obj, int]] = []
    for index, raw in enumerate(entries):
        entry = as_dict(raw, param=f"{param}[{index}]")
        if entry.get("id"):
            matches = [i for i in items if i["id"] == entry["id"]]
            if not matches:
                raise not_found("subscription item", entry["id"], f"{param}[{index}][id]")
            item = matches[0]
            if as_bool(entry.get("deleted", False), param=f"{param}[{index}][deleted]"):
                items.remove(item)
                continue
            new_price = (
                e.get("price", entry["price"], param=f"{param}[{index}][price]")
                if entry.get("price")
                else item["price"]
            )
            quantity = as_int(entry.get("quantity", item["quantity"]), param=f"{param}[{index}][quantity]")
            if new_price["id"] != item["price"]["id"] or quantity != item["quantity"]:
                if not new_price["active"]:
                    raise StripeError(
                        400,
                        "The price specified is inactive. This field only accepts active prices.",
                        param=f"{param}[{index}][price]",
                    )
                changes.append((copy.deepcopy(item), new_price, quantity))
                item["price"] = copy.deepcopy(new_price)
                item["plan"] = e.plan_from_price(new_price)
                item["quantity"] = quantity
        else:
            price = e.get("price", require(entry, "price"), param=f"{param}[{index}][price]")
            item = e.sub_item(
                subscription_id=sub["id"],
                price=price,
                quantity=as_int(entry.get("quantity", 1), param=f"{param}[{index}][quantity]"),
            )
            items.append(item)
            zero = copy.deepcopy(item)
            zero["price"] = {**copy.deepcopy(price), "unit_amount": 0}
            changes.append((zero, price, item["quantity"]))
    if not items:
        raise StripeError(400, "A subscription must have at least one active plan.", param=param)
    return items, changes


@route("POST", r"/v1/subscriptions/{id}")
def subscriptions_update(e: Engine, p: Obj, sub_id: str) -> Obj:  # noqa: C901, PLR0912, PLR0915  one Stripe operation's many optional parameters, read in Stripe's order
    allow(p, SUB_COMMON + " items proration_date pause_collection cancellation_details")
    refuse_unsupported(p)
    sub = e.get("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(
            400,
            "A canceled subscription can only update its cancellation_details and metadata.",
            code=None,
            param=None,
        )
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(sub["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if "default_payment_method" in p:
        if p["default_payment_method"]:
            pm = e.get("payment_method", p["default_payment_method"], param="default_payment_method")
            if pm["customer"] != sub["customer"]:
                raise StripeError(
                    400,
                    f"The customer does not have a payment method with the ID {pm['id']}. The payment method must be attached to the customer.",
                    code="resource_missing",
                    param="default_payment_method",
                )
        changes["default_payment_method"] = p["default_payment_method"] or None
    if "cancel_at_period_end" in p:
        flag = as_bool(p["cancel_at_period_end"], param="cancel_at_period_end")
        changes["cancel_at_period_end"] = flag
        changes["cancel_at"] = sub["current_period_end"] if flag else None
        changes["canceled_at"] = e.now if flag else None
        changes["cancellation_details"] = {
            **sub["cancellation_details"],
            "reason": "cancellation_requested" if flag else None,
        }
    if "cancel_at" in p:
        when = None if p["cancel_at"] == "" else as_int(p["cancel_at"], param="cancel_at")
        changes["cancel_at"] = when
        changes["cancel_at_period_end"] = when is not None and when == sub["current_period_end"]
        changes["canceled_at"] = e.now if when else None
    if "cancellation_details" in p:
        details = as_dict(p["cancellation_details"], param="cancellation_details")
        changes["cancellation_details"] = {
            **(changes.get("cancellation_details") or sub["cancellation_details"]),
            **{k: v or None for k, v in details.items() if k in ("comment", "feedback")},
        }
    discounts = subscription_discounts(e, p, sub["customer"], sub_id)
    if discounts is not None:
        changes["discounts"] = [d["id"] for d in discounts]
        changes["discount"] = copy.deepcopy(discounts[0]) if discounts else None
    proration = p.get("proration_behavior", "create_prorations")
    if proration not in ("create_prorations", "none", "always_invoice"):
        raise ParamError(
            "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice",
            param="proration_behavior",
        )
    proration_date = as_int(p.get("proration_date", e.now), param="proration_date")
    invoice_now = False
    reset_anchor = False
    if "items" in p:
        items, item_changes = changed_items(e, sub, as_list(p["items"], param="items"), "items")
        old_interval = (
            sub["items"]["data"][0]["price"]["recurring"]["interval"],
            sub["items"]["data"][0]["price"]["recurring"]["interval_count"],
        )
        new_interval = (
            items[0]["price"]["recurring"]["interval"],
            items[0]["price"]["recurring"]["interval_count"],
        )
        reset_anchor = old_interval != new_interval and sub["status"] != "trialing"
        if item_changes and proration != "none" and sub["status"] in ("active", "past_due"):
            for old_item, new_price, quantity in item_changes:
                e.proration_items(
                    sub,
                    old_item,
                    new_price,
                    quantity,
                    proration_date=proration_date if not reset_anchor else e.now,
                    store=True,
                )
            invoice_now = proration == "always_invoice" or reset_anchor
        changes["items"] = {**sub["items"], "data": items}
        if len(items) == 1:
            changes["plan"] = copy.deepcopy(items[0]["plan"])
            changes["quantity"] = items[0]["quantity"]
    if "trial_end" in p:
        if p["trial_end"] == "now":
            if sub["status"] == "trialing":
                changes.update({"trial_end": e.now, "current_period_end": e.now})
        else:
            trial_end = as_int(p["trial_end"], param="trial_end")
            if trial_end <= e.now:
                raise ParamError(
                    "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
                )
            changes.update(
                {
                    "trial_end": trial_end,
                    "current_period_end": trial_end,
                    "status": "trialing",
                    "billing_cycle_anchor": trial_end,
                }
            )
            e.m(sub_id).pop("trial_will_end_sent", None)
    pm_id = changes.get("default_payment_method")
    e.set_subscription(sub, changes)
    if "trial_end" in p and p["trial_end"] == "now" and sub["status"] == "trialing":
        e.renew(sub)
    elif reset_anchor:
        period = (e.now, 0)
        sub["billing_cycle_anchor"] = e.now
        period = (e.now, e.period_end(sub, e.now))
        invoice, error = e.invoice_subscription(
            sub, billing_reason="subscription_update", period=period, pm_id=pm_id
        )
        e.set_subscription(
            sub,
            {
                "current_period_start": period[0],
                "current_period_end": period[1],
                "latest_invoice": invoice["id"],
                "status": "active" if invoice["status"] == "paid" else "past_due",
            },
        )
    elif invoice_now:
        customer = e.get("customer", sub["customer"])
        pending = e.pending_items(customer["id"], sub_id)
        lines = e.item_lines(pending, None)
        invoice = e.build_invoice(
            customer=customer,
            subscription=sub,
            lines=lines,
            billing_reason="subscription_update",
            period=(e.now, e.now),
            discounts=[],
        )
        for ii in pending:
            ii["invoice"] = invoice["id"]
        e.finalize_invoice(invoice)
        error = e.attempt_invoice(invoice, pm_id=pm_id) if invoice["status"] == "open" else None
        if error is not None and p.get("payment_behavior") == "error_if_incomplete":
            raise error
        e.set_subscription(
            sub, {"latest_invoice": invoice["id"], "status": sub["status"] if error is None else "past_due"}
        )
    return sub


@route("DELETE", r"/v1/subscriptions/{id}")
def subscriptions_cancel(e: Engine, p: Obj, sub_id: str) -> Obj:
    allow(p, "invoice_now prorate cancellation_details")
    sub = e.get("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(404, f"No such subscription: '{sub_id}'", code="resource_missing", param="id")
    if p.get("cancellation_details"):
        details = as_dict(p["cancellation_details"], param="cancellation_details")
        sub["cancellation_details"] = {
            **sub["cancellation_details"],
            **{k: v or None for k, v in details.items() if k in ("comment", "feedback")},
        }
    if as_bool(p.get("prorate", False), param="prorate") and sub["status"] == "active":
        for item in sub["items"]["data"]:
            credit = e.proration_items(
                sub,
                item,
                {**item["price"], "unit_amount": 0},
                item["quantity"],
                proration_date=e.now,
                store=False,
            )[0]
            e.created(credit)
    e.cancel_subscription(sub)
    return sub


@route("POST", r"/v1/subscriptions/{id}/resume")
def subscriptions_resume(e: Engine, p: Obj, sub_id: str) -> Obj:
    allow(p, "billing_cycle_anchor proration_behavior proration_date")
    sub = e.get("subscription", sub_id)
    if sub["status"] != "paused":
        raise StripeError(
            400,
            "Only a paused subscription can be resumed. To undo a scheduled cancellation, update cancel_at_period_end to false.",
            code=None,
        )
    e.set_subscription(sub, {"status": "active", "pause_collection": None})
    return sub


@route("GET", r"/v1/subscription_items")
def subscription_items_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " subscription")
    sub = e.get("subscription", require(p, "subscription"), param="subscription")
    return e.paginate(sub["items"]["data"], p, f"/v1/subscription_items?subscription={sub['id']}")


@route("GET", r"/v1/subscription_items/{id}")
def subscription_items_retrieve(e: Engine, p: Obj, item_id: str) -> Obj:
    for sub in e.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return item
    raise not_found("subscription item", item_id)


# --- invoices and invoice items ---------------------------------------------------------------
@route("GET", r"/v1/invoices")
def invoices_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer subscription status collection_method due_date")
    items = e.all("invoice")
    for key in ("customer", "subscription", "status", "collection_method"):
        if p.get(key):
            items = [i for i in items if i[key] == p[key]]
    return e.paginate(created_filter(items, p), p, "/v1/invoices")


@route("GET", r"/v1/invoices/search")
def invoices_search(e: Engine, p: Obj) -> Obj:
    return search(e, "invoice", p, "/v1/invoices/search")


def preview(e: Engine, p: Obj, *, items_key: str, proration_key: str, date_key: str, details: Obj) -> Obj:
    customer = e.get("customer", require(p, "customer"), param="customer") if p.get("customer") else None
    sub = None
    if p.get("subscription"):
        sub = e.get("subscription", p["subscription"], param="subscription")
        customer = customer or e.get("customer", sub["customer"])
    if customer is None:
        raise ParamError("Missing required param: customer.", param="customer", code="parameter_missing")
    if sub is None:
        subs = [
            s
            for s in e.all("subscription")
            if s["customer"] == customer["id"] and s["status"] in ("active", "trialing", "past_due")
        ]
        if not subs:
            raise StripeError(
                404, f"No upcoming invoices for customer: {customer['id']}", code="invoice_upcoming_none"
            )
        sub = subs[-1]
    if sub["status"] in ("canceled", "incomplete_expired") or sub["cancel_at_period_end"]:
        raise StripeError(
            404, f"No upcoming invoices for customer: {customer['id']}", code="invoice_upcoming_none"
        )
    items = None
    extra_lines: list[Obj] = []
    if details.get(items_key):
        items, item_changes = changed_items(e, sub, as_list(details[items_key], param=items_key), items_key)
        behaviour = details.get(proration_key, "create_prorations")
        when = as_int(details.get(date_key, e.now), param=date_key)
        if behaviour != "none" and sub["status"] in ("active", "past_due"):
            for old_item, new_price, quantity in item_changes:
                for ii in e.proration_items(
                    sub, old_item, new_price, quantity, proration_date=when, store=False
                ):
                    extra_lines.extend(e.item_lines([ii], None))
    return e.preview_invoice(sub, items=items, extra_lines=extra_lines)


@route("GET", r"/v1/invoices/upcoming")
def invoices_upcoming(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "customer subscription subscription_items subscription_proration_behavior subscription_proration_date coupon discounts subscription_trial_end subscription_cancel_at_period_end automatic_tax invoice_items",
    )
    return preview(
        e,
        p,
        items_key="subscription_items",
        proration_key="subscription_proration_behavior",
        date_key="subscription_proration_date",
        details=p,
    )


@route("GET", r"/v1/invoices/upcoming/lines")
def invoices_upcoming_lines(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        LIST
        + " customer subscription subscription_items subscription_proration_behavior subscription_proration_date",
    )
    invoice = preview(
        e,
        {k: v for k, v in p.items() if k not in ("limit", "starting_after", "ending_before")},
        items_key="subscription_items",
        proration_key="subscription_proration_behavior",
        date_key="subscription_proration_date",
        details=p,
    )
    return invoice["lines"]


@route("POST", r"/v1/invoices/create_preview")
def invoices_create_preview(e: Engine, p: Obj) -> Obj:
    allow(p, "customer subscription subscription_details discounts automatic_tax invoice_items preview_mode")
    details = as_dict(p.get("subscription_details", {}), param="subscription_details")
    return preview(
        e,
        {"customer": p.get("customer", ""), "subscription": p.get("subscription", "")},
        items_key="items",
        proration_key="proration_behavior",
        date_key="proration_date",
        details=details,
    )


@route("POST", r"/v1/invoices")
def invoices_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "customer subscription description metadata auto_advance collection_method pending_invoice_items_behavior discounts days_until_due",
    )
    customer = e.get("customer", require(p, "customer"), param="customer")
    sub = e.get("subscription", p["subscription"], param="subscription") if p.get("subscription") else None
    pending = (
        []
        if p.get("pending_invoice_items_behavior") == "exclude"
        else e.pending_items(customer["id"], sub["id"] if sub else None)
    )
    invoice = e.build_invoice(
        customer=customer,
        subscription=sub,
        lines=e.item_lines(pending, None),
        billing_reason="manual",
        period=(e.now, e.now),
        discounts=[],
    )
    for ii in pending:
        ii["invoice"] = invoice["id"]
    invoice["description"] = p.get("description") or None
    invoice["metadata"] = as_dict(p.get("metadata", {}), param="metadata")
    invoice["auto_advance"] = as_bool(p.get("auto_advance", False), param="auto_advance")
    return invoice


@route("GET", r"/v1/invoices/{id}")
def invoices_retrieve(e: Engine, p: Obj, invoice_id: str) -> Obj:
    return e.get("invoice", invoice_id)


@route("POST", r"/v1/invoices/{id}")
def invoices_update(e: Engine, p: Obj, invoice_id: str) -> Obj:
    allow(p, "metadata description auto_advance footer")
    invoice = e.get("invoice", invoice_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(invoice["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if "footer" in p:
        changes["footer"] = p["footer"] or None
    if "auto_advance" in p:
        changes["auto_advance"] = as_bool(p["auto_advance"], param="auto_advance")
    return e.update(invoice, changes)


@route("DELETE", r"/v1/invoices/{id}")
def invoices_delete(e: Engine, p: Obj, invoice_id: str) -> Obj:
    invoice = e.get("invoice", invoice_id)
    if invoice["status"] != "draft":
        raise StripeError(400, "You can only delete draft invoices.", code="invoice_not_editable")
    e.emit("invoice.deleted", invoice)
    invoice["deleted"] = True
    return {"id": invoice_id, "object": "invoice", "deleted": True}


@route("GET", r"/v1/invoices/{id}/lines")
def invoices_lines(e: Engine, p: Obj, invoice_id: str) -> Obj:
    allow(p, LIST)
    invoice = e.get("invoice", invoice_id)
    lines = invoice["lines"]["data"]
    result = e.paginate([{**line, "created": 0} for line in lines], p, f"/v1/invoices/{invoice_id}/lines")
    order = [line["id"] for line in lines]
    result["data"] = sorted(
        ({k: v for k, v in line.items() if k != "created"} for line in result["data"]),
        key=lambda line: order.index(line["id"]),
    )
    return result


@route("POST", r"/v1/invoices/{id}/finalize")
def invoices_finalize(e: Engine, p: Obj, invoice_id: str) -> Obj:
    allow(p, "auto_advance")
    return e.finalize_invoice(e.get("invoice", invoice_id))


@route("POST", r"/v1/invoices/{id}/pay")
def invoices_pay(e: Engine, p: Obj, invoice_id: str) -> Obj:
    allow(p, "payment_method paid_out_of_band off_session forgive source mandate")
    invoice = e.get("invoice", invoice_id)
    if invoice["status"] == "draft":
        e.finalize_invoice(invoice)
    if invoice["status"] == "paid":
        raise StripeError(400, "Invoice is already paid", code=None)
    if as_bool(p.get("paid_out_of_band", False), param="paid_out_of_band"):
        e.mark_invoice_paid(invoice, charge=None, out_of_band=True)
        e.after_invoice_paid(invoice)
        return invoice
    pm_id = None
    if p.get("payment_method"):
        pm_id = e.payment_method_for(p["payment_method"])["id"]
    error = e.attempt_invoice(
        invoice, pm_id=pm_id, retry_schedule=invoice["next_payment_attempt"] is not None
    )
    if error is not None:
        raise error
    e.after_invoice_paid(invoice)
    return invoice


def _close_open_invoice(
    e: Engine, invoice_id: str, *, status: str, transition: str, event: str, verb: str
) -> Obj:
    """Ends an open invoice without payment (void or uncollectible): no more payment attempts."""
    invoice = e.get("invoice", invoice_id)
    if invoice["status"] != "open":
        raise StripeError(400, f"You can only {verb} open invoices.", code="invoice_not_editable")
    e.update(
        invoice,
        {
            "status": status,
            "next_payment_attempt": None,
            "status_transitions": {**invoice["status_transitions"], transition: e.now},
        },
    )
    e.emit(event, invoice)
    return invoice


@route("POST", r"/v1/invoices/{id}/void")
def invoices_void(e: Engine, p: Obj, invoice_id: str) -> Obj:
    return _close_open_invoice(
        e, invoice_id, status="void", transition="voided_at", event="invoice.voided", verb="void"
    )


@route("POST", r"/v1/invoices/{id}/mark_uncollectible")
def invoices_uncollectible(e: Engine, p: Obj, invoice_id: str) -> Obj:
    return _close_open_invoice(
        e,
        invoice_id,
        status="uncollectible",
        transition="marked_uncollectible_at",
        event="invoice.marked_uncollectible",
        verb="mark uncollectible",
    )


@route("POST", r"/v1/invoiceitems")
def invoiceitems_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "customer amount currency description price quantity subscription metadata discountable period invoice unit_amount",
    )
    customer = e.get("customer", require(p, "customer"), param="customer")
    quantity = as_int(p.get("quantity", 1), param="quantity")
    if p.get("price"):
        price = copy.deepcopy(e.get("price", p["price"], param="price"))
        amount = int(price["unit_amount"]) * quantity
    else:
        amount = as_int(require(p, "amount"), param="amount")
        currency = str(require(p, "currency"))
        price = {
            "id": e.new_id("price"),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": e.now,
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": "prod_adhoc",
            "recurring": None,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": amount,
            "unit_amount_decimal": str(amount),
        }
    ii = {
        "id": e.new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": price["currency"],
        "customer": customer["id"],
        "date": e.now,
        "description": p.get("description") or None,
        "discountable": as_bool(p.get("discountable", True), param="discountable"),
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "period": {"end": e.now, "start": e.now},
        "price": price,
        "proration": False,
        "quantity": quantity,
        "subscription": p.get("subscription") or None,
        "tax_rates": [],
        "test_clock": None,
        "unit_amount": amount // max(quantity, 1),
        "unit_amount_decimal": str(amount // max(quantity, 1)),
        "plan": None,
    }
    e.created(ii)
    if p.get("invoice"):
        invoice = e.get("invoice", p["invoice"], param="invoice")
        if invoice["status"] != "draft":
            raise StripeError(
                400,
                "You can only add invoice items to draft invoices.",
                code="invoice_not_editable",
                param="invoice",
            )
        ii["invoice"] = invoice["id"]
        invoice["lines"]["data"].extend(e.item_lines([ii], invoice["id"]))
        total = sum(line["amount"] for line in invoice["lines"]["data"])
        invoice.update(
            {
                "subtotal": total,
                "subtotal_excluding_tax": total,
                "total": total,
                "total_excluding_tax": total,
                "amount_due": max(total, 0),
                "amount_remaining": max(total, 0),
            }
        )
    e.emit("invoiceitem.created", ii)
    return ii


@route("GET", r"/v1/invoiceitems")
def invoiceitems_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer invoice pending")
    items = [i for i in e.all("invoiceitem") if not i.get("deleted")]
    if p.get("customer"):
        items = [i for i in items if i["customer"] == p["customer"]]
    if p.get("invoice"):
        items = [i for i in items if i["invoice"] == p["invoice"]]
    if "pending" in p and as_bool(p["pending"], param="pending"):
        items = [i for i in items if i["invoice"] is None]
    return e.paginate(items, p, "/v1/invoiceitems")


@route("GET", r"/v1/invoiceitems/{id}")
def invoiceitems_retrieve(e: Engine, p: Obj, ii_id: str) -> Obj:
    return e.get("invoiceitem", ii_id, label="invoiceitem")


@route("DELETE", r"/v1/invoiceitems/{id}")
def invoiceitems_delete(e: Engine, p: Obj, ii_id: str) -> Obj:
    ii = e.get("invoiceitem", ii_id, label="invoiceitem")
    if ii["invoice"]:
        raise StripeError(
            400,
            "This invoice item is attached to an invoice and cannot be deleted.",
            code="invoice_not_editable",
        )
    ii["deleted"] = True
    e.emit("invoiceitem.deleted", ii)
    return {"id": ii_id, "object": "invoiceitem", "deleted": True}


# --- setup intents ----------------------------------------------------------------------------
@route("POST", r"/v1/setup_intents")
def setup_intents_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "customer payment_method payment_method_types usage confirm metadata description return_url automatic_payment_methods",
    )
    customer = e.get("customer", p["customer"], param="customer")["id"] if p.get("customer") else None
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    seti_id = e.new_id("seti")
    intent: Obj = {
        "id": seti_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{seti_id}_secret_{e.secret('seti', seti_id)[:24]}",
        "created": e.now,
        "customer": customer,
        "description": p.get("description") or None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": pm_id,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": as_list(
            p.get("payment_method_types", ["card"]), param="payment_method_types"
        ),
        "single_use_mandate": None,
        "status": "requires_confirmation" if pm_id else "requires_payment_method",
        "usage": p.get("usage", "off_session"),
    }
    e.created(intent)
    e.emit("setup_intent.created", intent)
    if as_bool(p.get("confirm", False), param="confirm"):
        confirm_setup_intent(e, intent, pm_id)
    return intent


def confirm_setup_intent(e: Engine, intent: Obj, pm_id: str | None) -> None:
    """Attach the card to the intent's customer; cards that decline at attach fail the intent."""
    pm_id = pm_id or intent["payment_method"]
    if not pm_id:
        raise StripeError(
            400,
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
            param="payment_method",
        )
    pm = e.get("payment_method", pm_id, param="payment_method")
    behaviour = e.card_behaviour(pm_id)
    if behaviour in ("decline_attach", "auth_required"):
        code = "card_declined" if behaviour == "decline_attach" else "authentication_required"
        error = e.card_error(code, "generic_decline" if code == "card_declined" else code)
        e.update(
            intent,
            {
                "status": "requires_payment_method",
                "payment_method": None,
                "last_setup_error": {
                    "code": code,
                    "decline_code": error.extra.get("decline_code"),
                    "doc_url": None,
                    "message": error.message,
                    "payment_method": copy.deepcopy(pm),
                    "type": "card_error",
                },
            },
            "setup_intent.setup_failed",
        )
        error.extra["setup_intent"] = copy.deepcopy(intent)
        raise error
    if intent["customer"]:
        e.attach(pm, e.get("customer", intent["customer"]))
    e.update(
        intent,
        {"status": "succeeded", "payment_method": pm_id, "last_setup_error": None},
        "setup_intent.succeeded",
    )


@route("GET", r"/v1/setup_intents")
def setup_intents_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer payment_method")
    items = e.all("setup_intent")
    for key in ("customer", "payment_method"):
        if p.get(key):
            items = [i for i in items if i[key] == p[key]]
    return e.paginate(created_filter(items, p), p, "/v1/setup_intents")


@route("GET", r"/v1/setup_intents/{id}")
def setup_intents_retrieve(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "client_secret")
    return e.get("setup_intent", seti_id, label="setupintent")


@route("POST", r"/v1/setup_intents/{id}/confirm")
def setup_intents_confirm(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "payment_method return_url mandate_data")
    intent = e.get("setup_intent", seti_id, label="setupintent")
    if intent["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"This SetupIntent's status is {intent['status']}, so it cannot be confirmed.",
            code="setup_intent_unexpected_state",
        )
    confirm_setup_intent(
        e, intent, e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    )
    return intent


@route("POST", r"/v1/setup_intents/{id}/cancel")
def setup_intents_cancel(e: Engine, p: Obj, seti_id: str) -> Obj:
    allow(p, "cancellation_reason")
    intent = e.get("setup_intent", seti_id, label="setupintent")
    if intent["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    return e.update(
        intent,
        {
            "status": "canceled",
            "cancellation_reason": p.get("cancellation_reason") or "requested_by_customer",
        },
        "setup_intent.canceled",
    )


# --- payment intents, charges, refunds, balance -----------------------------------------------
@route("POST", r"/v1/payment_intents")
def payment_intents_create(e: Engine, p: Obj) -> Obj:
    allow(
        p,
        "amount currency customer description metadata payment_method payment_method_types confirm off_session setup_future_usage receipt_email automatic_payment_methods return_url statement_descriptor capture_method",
    )
    amount = as_int(require(p, "amount"), param="amount")
    if amount < 50:
        raise StripeError(400, "Amount must be at least $0.50 usd", code="amount_too_small", param="amount")
    currency = str(require(p, "currency")).lower()
    customer = e.get("customer", p["customer"], param="customer")["id"] if p.get("customer") else None
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    pi = e.new_payment_intent(
        amount=amount,
        currency=currency,
        customer=customer,
        description=p.get("description") or None,
        metadata=as_dict(p.get("metadata", {}), param="metadata"),
        payment_method=pm_id,
        setup_future_usage=p.get("setup_future_usage") or None,
    )
    if as_bool(p.get("confirm", False), param="confirm"):
        error = e.confirm_payment_intent(pi, pm_id)
        if error is not None:
            raise error
    return pi


@route("GET", r"/v1/payment_intents")
def payment_intents_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer")
    items = e.all("payment_intent")
    if p.get("customer"):
        items = [i for i in items if i["customer"] == p["customer"]]
    return e.paginate(created_filter(items, p), p, "/v1/payment_intents")


@route("GET", r"/v1/payment_intents/search")
def payment_intents_search(e: Engine, p: Obj) -> Obj:
    return search(e, "payment_intent", p, "/v1/payment_intents/search")


@route("GET", r"/v1/payment_intents/{id}")
def payment_intents_retrieve(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "client_secret")
    return e.get("payment_intent", pi_id)


@route("POST", r"/v1/payment_intents/{id}")
def payment_intents_update(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "metadata description payment_method receipt_email setup_future_usage amount")
    pi = e.get("payment_intent", pi_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(pi["metadata"], p["metadata"])
    if "description" in p:
        changes["description"] = p["description"] or None
    if p.get("payment_method"):
        changes["payment_method"] = e.payment_method_for(p["payment_method"])["id"]
    if "amount" in p and pi["status"] != "succeeded" and not pi["invoice"]:
        changes["amount"] = as_int(p["amount"], param="amount")
    return e.update(pi, changes)


@route("POST", r"/v1/payment_intents/{id}/confirm")
def payment_intents_confirm(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "payment_method off_session return_url setup_future_usage mandate_data")
    pi = e.get("payment_intent", pi_id)
    if pi["status"] == "succeeded":
        raise StripeError(
            400,
            "This PaymentIntent's status is succeeded, so it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    pm_id = e.payment_method_for(p["payment_method"])["id"] if p.get("payment_method") else None
    if pi["invoice"]:
        invoice = e.get("invoice", pi["invoice"])
        error = e.attempt_invoice(invoice, pm_id=pm_id, retry_schedule=False)
        if error is None:
            e.after_invoice_paid(invoice)
    else:
        error = e.confirm_payment_intent(pi, pm_id)
    if error is not None:
        raise error
    return pi


@route("POST", r"/v1/payment_intents/{id}/cancel")
def payment_intents_cancel(e: Engine, p: Obj, pi_id: str) -> Obj:
    allow(p, "cancellation_reason")
    pi = e.get("payment_intent", pi_id)
    if pi["status"] in ("succeeded", "canceled"):
        raise StripeError(
            400,
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}.",
            code="payment_intent_unexpected_state",
        )
    e.update(
        pi,
        {
            "status": "canceled",
            "canceled_at": e.now,
            "cancellation_reason": p.get("cancellation_reason") or "requested_by_customer",
        },
        "payment_intent.canceled",
    )
    return pi


@route("GET", r"/v1/charges")
def charges_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer payment_intent")
    items = e.all("charge")
    for key in ("customer", "payment_intent"):
        if p.get(key):
            items = [c for c in items if c[key] == p[key]]
    return e.paginate(created_filter(items, p), p, "/v1/charges")


@route("GET", r"/v1/charges/search")
def charges_search(e: Engine, p: Obj) -> Obj:
    return search(e, "charge", p, "/v1/charges/search")


@route("GET", r"/v1/charges/{id}")
def charges_retrieve(e: Engine, p: Obj, charge_id: str) -> Obj:
    return e.get("charge", charge_id)


@route("GET", r"/v1/charges/{id}/refunds")
def charges_refunds(e: Engine, p: Obj, charge_id: str) -> Obj:
    e.get("charge", charge_id)
    return e.paginate(
        [r for r in e.all("refund") if r["charge"] == charge_id], p, f"/v1/charges/{charge_id}/refunds"
    )


def create_refund(e: Engine, charge: Obj, amount: int | None, reason: str | None, metadata: Obj) -> Obj:
    if not charge["paid"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has not been paid.",
            code=None,
            param="charge",
        )
    dispute = e.find("dispute", e.m(charge["id"]).get("dispute", ""))
    if dispute is not None and not dispute["is_charge_refundable"]:
        raise StripeError(
            400,
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
            param="charge",
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise StripeError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="charge_already_refunded" if remaining == 0 else None,
            param="amount",
        )
    refund_id = e.new_id("re")
    txn = e.balance_transaction(
        amount=-amount,
        currency=charge["currency"],
        source=refund_id,
        kind="refund",
        description="REFUND FOR CHARGE",
    )
    refund = e.created(
        {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge["id"],
            "created": e.now,
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
    )
    e.emit("refund.created", refund)
    refunded = charge["amount_refunded"] + amount
    charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
    e.update(
        charge, {"amount_refunded": refunded, "refunded": refunded == charge["amount"]}, "charge.refunded"
    )
    return refund


@route("POST", r"/v1/refunds")
def refunds_create(e: Engine, p: Obj) -> Obj:
    allow(p, "charge payment_intent amount reason metadata refund_application_fee reverse_transfer")
    if p.get("charge"):
        charge = e.get("charge", p["charge"], param="charge")
    elif p.get("payment_intent"):
        pi = e.get("payment_intent", p["payment_intent"], param="payment_intent")
        if not pi["latest_charge"]:
            raise StripeError(
                400, "This PaymentIntent does not have a successful charge to refund.", param="payment_intent"
            )
        charge = e.get("charge", pi["latest_charge"])
    else:
        raise ParamError("Missing required param: charge.", param="charge", code="parameter_missing")
    reason = p.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise ParamError(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", param="reason"
        )
    amount = as_int(p["amount"], param="amount") if "amount" in p else None
    return create_refund(e, charge, amount, reason, as_dict(p.get("metadata", {}), param="metadata"))


@route("GET", r"/v1/refunds")
def refunds_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " charge payment_intent")
    items = e.all("refund")
    for key in ("charge", "payment_intent"):
        if p.get(key):
            items = [r for r in items if r[key] == p[key]]
    return e.paginate(items, p, "/v1/refunds")


@route("GET", r"/v1/refunds/{id}")
def refunds_retrieve(e: Engine, p: Obj, refund_id: str) -> Obj:
    return e.get("refund", refund_id)


# --- disputes ---------------------------------------------------------------------------------
@route("GET", r"/v1/disputes")
def disputes_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " charge payment_intent")
    items = e.all("dispute")
    for key in ("charge", "payment_intent"):
        if p.get(key):
            items = [d for d in items if d[key] == p[key]]
    return e.paginate(created_filter(items, p), p, "/v1/disputes")


@route("GET", r"/v1/disputes/{id}")
def disputes_retrieve(e: Engine, p: Obj, dispute_id: str) -> Obj:
    return e.get("dispute", dispute_id)


DISPUTE_OPEN = ("warning_needs_response", "needs_response", "warning_under_review", "under_review")


@route("POST", r"/v1/disputes/{id}")
def disputes_update(e: Engine, p: Obj, dispute_id: str) -> Obj:
    """Metadata, and evidence (text fields) submitted at once unless ``submit=false``."""
    allow(p, "metadata evidence submit")
    dispute = e.get("dispute", dispute_id)
    changes: Obj = {}
    if "metadata" in p:
        changes["metadata"] = metadata_update(dispute["metadata"], p["metadata"])
    submit = "evidence" in p and as_bool(p.get("submit", True), param="submit")
    if "evidence" in p:
        if dispute["status"] not in DISPUTE_OPEN:
            raise StripeError(400, f"This dispute is already closed ({dispute['status']}).", param="evidence")
        given = as_dict(p["evidence"], param="evidence")
        for key in sorted(given):
            if key not in dispute["evidence"] or key == "enhanced_evidence":
                raise ParamError(
                    f"Received unknown parameter: evidence[{key}]",
                    param=f"evidence[{key}]",
                    code="parameter_unknown",
                )
        changes["evidence"] = {**dispute["evidence"], **{k: str(v) or None for k, v in given.items()}}
        details = {**dispute["evidence_details"], "has_evidence": True}
        if submit:
            details["submission_count"] += 1
            changes["status"] = (
                "warning_under_review" if dispute["status"].startswith("warning") else "under_review"
            )
        changes["evidence_details"] = details
    return e.update(dispute, changes, "charge.dispute.updated")


@route("POST", r"/v1/disputes/{id}/close")
def disputes_close(e: Engine, p: Obj, dispute_id: str) -> Obj:
    """Accepts the dispute: it is lost (an inquiry just closes), nothing is given back."""
    allow(p, "")
    dispute = e.get("dispute", dispute_id)
    if dispute["status"] not in DISPUTE_OPEN:
        raise StripeError(400, f"This dispute is already closed ({dispute['status']}).")
    status = "warning_closed" if dispute["status"].startswith("warning") else "lost"
    e.update(dispute, {"status": status, "is_charge_refundable": False}, "charge.dispute.updated")
    e.emit("charge.dispute.closed", dispute)
    return dispute


@route("GET", r"/v1/balance_transactions")
def balance_transactions_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " type source payout currency")
    items = e.all("balance_transaction")
    if p.get("type"):
        items = [t for t in items if t["type"] == p["type"]]
    if p.get("source"):
        items = [t for t in items if t["source"] == p["source"]]
    return e.paginate(created_filter(items, p), p, "/v1/balance_transactions")


@route("GET", r"/v1/balance_transactions/{id}")
def balance_transactions_retrieve(e: Engine, p: Obj, txn_id: str) -> Obj:
    return e.get("balance_transaction", txn_id, label="balance transaction")


# --- credit notes -----------------------------------------------------------------------------
@route("POST", r"/v1/credit_notes")
def credit_notes_create(e: Engine, p: Obj) -> Obj:
    allow(p, "invoice amount credit_amount refund_amount out_of_band_amount reason memo metadata lines")
    invoice = e.get("invoice", require(p, "invoice"), param="invoice")
    if invoice["status"] not in ("open", "paid"):
        raise StripeError(
            400,
            "Credit notes can only be issued for open or paid invoices.",
            code="invoice_not_editable",
            param="invoice",
        )
    if "amount" in p:
        amount = as_int(p["amount"], param="amount")
    elif p.get("lines"):
        amount = sum(
            as_int(as_dict(line, param="lines").get("amount", 0), param="lines[amount]")
            for line in as_list(p["lines"], param="lines")
        )
    else:
        raise ParamError("Missing required param: amount.", param="amount", code="parameter_missing")
    if amount <= 0 or amount > invoice["total"]:
        raise StripeError(
            400, "The credit note amount must be positive and not exceed the invoice total.", param="amount"
        )
    reason = p.get("reason") or None
    cn_id = e.new_id("cn")
    customer = e.get("customer", invoice["customer"])
    paid = invoice["status"] == "paid"
    refund_amount = as_int(p.get("refund_amount", 0), param="refund_amount")
    out_of_band = (
        as_int(p["out_of_band_amount"], param="out_of_band_amount") if p.get("out_of_band_amount") else None
    )
    credit_amount = (
        as_int(p["credit_amount"], param="credit_amount")
        if "credit_amount" in p
        else (amount - refund_amount - (out_of_band or 0) if paid else 0)
    )
    refund_id = None
    if refund_amount:
        charge = e.get("charge", invoice["charge"], param="invoice")
        refund_id = create_refund(e, charge, refund_amount, "requested_by_customer", {})["id"]
    cbtxn = None
    if credit_amount:
        cbtxn = e.customer_balance_change(
            customer, amount=-credit_amount, kind="credit_note", invoice=invoice["id"], credit_note=cn_id
        )["id"]
    line_id = e.new_id("cnli")
    note = {
        "id": cn_id,
        "object": "credit_note",
        "amount": amount,
        "amount_shipping": 0,
        "created": e.now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "customer_balance_transaction": cbtxn,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": e.now,
        "invoice": invoice["id"],
        "lines": e.list_obj(
            [
                {
                    "id": line_id,
                    "object": "credit_note_line_item",
                    "amount": amount,
                    "amount_excluding_tax": amount,
                    "description": p.get("memo") or "Credit",
                    "discount_amount": 0,
                    "discount_amounts": [],
                    "livemode": False,
                    "quantity": 1,
                    "tax_amounts": [],
                    "tax_rates": [],
                    "type": "custom_line_item",
                    "unit_amount": amount,
                    "unit_amount_decimal": str(amount),
                    "unit_amount_excluding_tax": str(amount),
                    "pretax_credit_amounts": [],
                }
            ],
            f"/v1/credit_notes/{cn_id}/lines",
        ),
        "livemode": False,
        "memo": p.get("memo") or None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "number": f"{invoice['number']}-CN-{sum(1 for c in e.all('credit_note') if c['invoice'] == invoice['id']) + 1:02d}",
        "out_of_band_amount": out_of_band,
        "pdf": f"{e.base_url}/i/{invoice['id']}/pdf",
        "reason": reason,
        "refund": refund_id,
        "shipping_cost": None,
        "status": "issued",
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "tax_amounts": [],
        "total": amount,
        "total_excluding_tax": amount,
        "type": "post_payment" if paid else "pre_payment",
        "voided_at": None,
        "pretax_credit_amounts": [],
    }
    e.created(note)
    if paid:
        invoice["post_payment_credit_notes_amount"] += amount
    else:
        invoice["pre_payment_credit_notes_amount"] += amount
        due = max(invoice["amount_due"] - amount, 0)
        e.update(invoice, {"amount_due": due, "amount_remaining": due})
        if due == 0:
            e.mark_invoice_paid(invoice, charge=None)
    e.emit("credit_note.created", note)
    return note


@route("GET", r"/v1/credit_notes")
def credit_notes_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer invoice")
    items = e.all("credit_note")
    for key in ("customer", "invoice"):
        if p.get(key):
            items = [c for c in items if c[key] == p[key]]
    return e.paginate(items, p, "/v1/credit_notes")


@route("GET", r"/v1/credit_notes/{id}")
def credit_notes_retrieve(e: Engine, p: Obj, cn_id: str) -> Obj:
    return e.get("credit_note", cn_id, label="credit note")


# --- coupons and promotion codes --------------------------------------------------------------
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
    allow(p, LIST)
    return e.paginate([c for c in e.all("coupon") if not c.get("deleted")], p, "/v1/coupons")


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


# --- events and webhook endpoints -------------------------------------------------------------
@route("GET", r"/v1/events")
def events_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " type types delivery_success")
    items = e.all("event")
    if p.get("type"):
        wanted = str(p["type"])
        if wanted.endswith("*"):
            items = [ev for ev in items if ev["type"].startswith(wanted[:-1])]
        else:
            items = [ev for ev in items if ev["type"] == wanted]
    if p.get("types"):
        types = set(as_list(p["types"], param="types"))
        items = [ev for ev in items if ev["type"] in types]
    return e.paginate(created_filter(items, p), p, "/v1/events")


@route("GET", r"/v1/events/{id}")
def events_retrieve(e: Engine, p: Obj, event_id: str) -> Obj:
    return e.get("event", event_id)


@route("POST", r"/v1/webhook_endpoints")
def webhook_endpoints_create(e: Engine, p: Obj) -> Obj:
    allow(p, "url enabled_events description metadata api_version connect")
    url = str(require(p, "url"))
    if not url.startswith(("http://", "https://")):
        raise ParamError("Invalid URL: must be an http or https URL", param="url")
    events = as_list(require(p, "enabled_events"), param="enabled_events")
    we_id = e.new_id("we")
    endpoint = e.created(
        {
            "id": we_id,
            "object": "webhook_endpoint",
            "api_version": p.get("api_version") or None,
            "application": None,
            "created": e.now,
            "description": p.get("description") or None,
            "enabled_events": events,
            "livemode": False,
            "metadata": as_dict(p.get("metadata", {}), param="metadata"),
            "status": "enabled",
            "url": url,
        }
    )
    secret = "whsec_" + e.secret("whsec", we_id)
    e.m(we_id)["secret"] = secret
    return {**endpoint, "secret": secret}


@route("GET", r"/v1/webhook_endpoints")
def webhook_endpoints_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST)
    return e.paginate(
        [w for w in e.all("webhook_endpoint") if not w.get("deleted")], p, "/v1/webhook_endpoints"
    )


@route("GET", r"/v1/webhook_endpoints/{id}")
def webhook_endpoints_retrieve(e: Engine, p: Obj, we_id: str) -> Obj:
    return e.get("webhook_endpoint", we_id, label="webhook endpoint")


@route("POST", r"/v1/webhook_endpoints/{id}")
def webhook_endpoints_update(e: Engine, p: Obj, we_id: str) -> Obj:
    allow(p, "url enabled_events description metadata disabled")
    endpoint = e.get("webhook_endpoint", we_id, label="webhook endpoint")
    if p.get("url"):
        endpoint["url"] = p["url"]
    if "enabled_events" in p:
        endpoint["enabled_events"] = as_list(p["enabled_events"], param="enabled_events")
    if "description" in p:
        endpoint["description"] = p["description"] or None
    if "metadata" in p:
        endpoint["metadata"] = metadata_update(endpoint["metadata"], p["metadata"])
    if "disabled" in p:
        endpoint["status"] = "disabled" if as_bool(p["disabled"], param="disabled") else "enabled"
    return endpoint


@route("DELETE", r"/v1/webhook_endpoints/{id}")
def webhook_endpoints_delete(e: Engine, p: Obj, we_id: str) -> Obj:
    endpoint = e.get("webhook_endpoint", we_id, label="webhook endpoint")
    endpoint["deleted"] = True
    e.deliveries = [d for d in e.deliveries if d["endpoint"] != we_id]
    return {"id": we_id, "object": "webhook_endpoint", "deleted": True}


# --- checkout and portal sessions -------------------------------------------------------------
@route("POST", r"/v1/checkout/sessions")
def checkout_sessions_create(e: Engine, p: Obj) -> Obj:  # noqa: C901, PLR0912, PLR0915  one Stripe operation's many optional parameters, read in Stripe's order
    allow(
        p,
        "mode line_items customer customer_email client_reference_id success_url cancel_url allow_promotion_codes discounts metadata subscription_data payment_method_types billing_address_collection customer_update locale expires_at ui_mode consent_collection tax_id_collection automatic_tax payment_method_collection customer_creation saved_payment_method_options payment_intent_data phone_number_collection submit_type custom_text invoice_creation return_url",
    )
    mode = require(p, "mode")
    if p.get("ui_mode", "hosted") != "hosted":
        raise StripeError(
            400,
            "The local Stripe stand-in only serves hosted Checkout pages.",
            code="parameter_unsupported",
            param="ui_mode",
        )
    if as_dict(p.get("automatic_tax", {}), param="automatic_tax").get("enabled") in ("true", True):
        raise StripeError(
            400,
            "The local Stripe stand-in does not compute taxes.",
            code="parameter_unsupported",
            param="automatic_tax[enabled]",
        )
    if mode not in ("subscription", "payment"):
        raise ParamError("Invalid mode: the local stand-in supports subscription and payment", param="mode")
    success_url = str(require(p, "success_url"))
    if p.get("allow_promotion_codes") and p.get("discounts"):
        raise StripeError(
            400,
            "You may only specify one of these parameters: allow_promotion_codes, discounts.",
            param="allow_promotion_codes",
        )
    customer = e.get("customer", p["customer"], param="customer") if p.get("customer") else None
    entries = as_list(require(p, "line_items"), param="line_items")
    session_id = e.new_id("cs_test")
    line_items = []
    subtotal = 0
    currency = None
    for index, raw in enumerate(entries):
        entry = as_dict(raw, param=f"line_items[{index}]")
        price = e.get("price", require(entry, "price"), param=f"line_items[{index}][price]")
        if mode == "subscription" and not price["recurring"]:
            pass
        if mode == "payment" and price["recurring"]:
            raise StripeError(
                400,
                "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
                param=f"line_items[{index}][price]",
            )
        if not price["active"]:
            raise StripeError(
                400, f"The price `{price['id']}` is not active.", param=f"line_items[{index}][price]"
            )
        quantity = as_int(entry.get("quantity", 1), param=f"line_items[{index}][quantity]")
        product = e.find("product", price["product"])
        amount = int(price["unit_amount"] or 0) * quantity
        subtotal += amount
        currency = price["currency"]
        line_items.append(
            {
                "id": e.new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price["currency"],
                "description": product["name"] if product else price["product"],
                "price": copy.deepcopy(price),
                "quantity": quantity,
            }
        )
    if mode == "subscription" and not any(li["price"]["recurring"] for li in line_items):
        raise StripeError(
            400,
            "You must provide at least one recurring price in `subscription` mode when using prices.",
            param="line_items",
        )
    sub_data = as_dict(p.get("subscription_data", {}), param="subscription_data")
    discounts = []
    for index, raw in enumerate(as_list(p.get("discounts", []), param="discounts")):
        entry = as_dict(raw, param=f"discounts[{index}]")
        if entry.get("promotion_code"):
            e.get(
                "promotion_code",
                entry["promotion_code"],
                param=f"discounts[{index}][promotion_code]",
                label="promotion code",
            )
        elif entry.get("coupon"):
            e.get("coupon", entry["coupon"], param=f"discounts[{index}][coupon]")
        discounts.append(
            {"coupon": entry.get("coupon") or None, "promotion_code": entry.get("promotion_code") or None}
        )
    # Like Stripe, a session created with discounts shows the discounted total from the start (the
    # hosted page's "Total due today"), not only once it is paid.
    amount_discount = 0
    for entry in discounts:
        coupon = (
            e.get("coupon", entry["coupon"])
            if entry["coupon"]
            else e.get("promotion_code", entry["promotion_code"])["coupon"]
        )
        remaining = subtotal - amount_discount
        if coupon["percent_off"] is not None:
            off = int(round(remaining * float(coupon["percent_off"]) / 100))
        elif (coupon.get("currency") or currency) == currency:
            off = int(coupon["amount_off"] or 0)
        else:
            off = 0
        amount_discount += min(remaining, off)
    expires_at = (
        as_int(p["expires_at"], param="expires_at")
        if p.get("expires_at")
        else e.now + CHECKOUT_EXPIRES_SECONDS
    )
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": as_bool(p["allow_promotion_codes"], param="allow_promotion_codes")
        if "allow_promotion_codes" in p
        else None,
        "amount_subtotal": subtotal,
        "amount_total": subtotal - amount_discount,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": p.get("billing_address_collection") or None,
        "cancel_url": p.get("cancel_url") or None,
        "client_reference_id": p.get("client_reference_id") or None,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": e.now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": customer["id"] if customer else None,
        "customer_creation": None if customer else ("always" if mode == "subscription" else "if_required"),
        "customer_details": {
            "address": None,
            "email": customer["email"] if customer else p.get("customer_email") or None,
            "name": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if customer or p.get("customer_email")
        else None,
        "customer_email": p.get("customer_email") or None,
        "discounts": discounts,
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": p.get("locale") or None,
        "metadata": as_dict(p.get("metadata", {}), param="metadata"),
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": p.get("payment_method_collection") or "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": as_list(
            p.get("payment_method_types", ["card"]), param="payment_method_types"
        ),
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.get("submit_type") or None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": amount_discount, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": p.get("ui_mode") or "hosted",
        "url": f"{e.base_url}/c/pay/{session_id}",
    }
    e.created(session)
    meta = e.m(session_id)
    meta["line_items"] = line_items
    meta["subscription_data"] = sub_data
    return session


@route("GET", r"/v1/checkout/sessions")
def checkout_sessions_list(e: Engine, p: Obj) -> Obj:
    allow(p, LIST + " customer subscription payment_intent status customer_details")
    items = e.all("checkout.session")
    for key in ("customer", "subscription", "payment_intent", "status"):
        if p.get(key):
            items = [s for s in items if s[key] == p[key]]
    return e.paginate(created_filter(items, p), p, "/v1/checkout/sessions")


@route("GET", r"/v1/checkout/sessions/{id}")
def checkout_sessions_retrieve(e: Engine, p: Obj, session_id: str) -> Obj:
    return e.get("checkout.session", session_id, label="checkout.session")


@route("GET", r"/v1/checkout/sessions/{id}/line_items")
def checkout_sessions_line_items(e: Engine, p: Obj, session_id: str) -> Obj:
    allow(p, LIST)
    e.get("checkout.session", session_id, label="checkout.session")
    items = e.m(session_id).get("line_items", [])
    return e.list_obj(
        copy.deepcopy(items[: as_int(p.get("limit", 10), param="limit")]),
        f"/v1/checkout/sessions/{session_id}/line_items",
        len(items) > as_int(p.get("limit", 10), param="limit"),
    )


@route("POST", r"/v1/checkout/sessions/{id}/expire")
def checkout_sessions_expire(e: Engine, p: Obj, session_id: str) -> Obj:
    session = e.get("checkout.session", session_id, label="checkout.session")
    if session["status"] != "open":
        raise StripeError(
            400,
            f"Only Checkout Sessions with a status of `open` can be expired. This Checkout Session has a status of `{session['status']}`.",
            param="session",
        )
    return e.update(session, {"status": "expired", "url": None}, "checkout.session.expired")


def card_optional(e: Engine, session: Obj) -> bool:
    """A trial with ``payment_method_collection=if_required`` can start without a card."""
    sub_data = e.m(session["id"]).get("subscription_data", {})
    has_trial = bool(sub_data.get("trial_period_days") or sub_data.get("trial_end"))
    return (
        session["mode"] == "subscription"
        and has_trial
        and session["payment_method_collection"] == "if_required"
    )


def complete_checkout(
    e: Engine,
    session: Obj,
    *,
    card: Obj | None,
    email: str | None,
    name: str | None,
    promotion_code: str | None,
) -> Obj:
    """Pay a checkout session like the hosted page does. Raises StripeError (card or code errors)
    without changing anything when payment fails."""
    if session["status"] != "open":
        raise StripeError(
            400,
            "This Checkout Session is no longer open.",
            code=None,
        )
    promo_id = None
    if promotion_code:
        if not session["allow_promotion_codes"]:
            raise StripeError(
                400, "Promotion codes are not enabled for this session.", param="promotion_code"
            )
        found = [
            pc
            for pc in e.all("promotion_code")
            if pc["code"].lower() == promotion_code.lower() and pc["active"]
        ]
        if not found:
            raise StripeError(
                400,
                "This code is invalid.",
                code=None,
                param="promotion_code",
            )
        promo_id = found[0]["id"]
    saved = e.snapshot()
    saved = json_roundtrip(saved)
    try:
        return _complete_checkout(e, session, card=card, email=email, name=name, promo_id=promo_id)
    except StripeError:
        # Nothing happened: restore the state as it was before the attempt.
        e.counters, e.objects, e.meta, e.events, e.deliveries = (
            saved["counters"],
            saved["objects"],
            saved["meta"],
            saved["events"],
            saved["deliveries"],
        )
        raise


def json_roundtrip(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))


def _complete_checkout(  # noqa: C901, PLR0912, PLR0915  one Stripe operation's many optional parameters, read in Stripe's order
    e: Engine, session: Obj, *, card: Obj | None, email: str | None, name: str | None, promo_id: str | None
) -> Obj:
    session = e.get("checkout.session", session["id"])
    customer = e.find("customer", session["customer"]) if session["customer"] else None
    # A known customer or a customer_email is fixed on Stripe's page; otherwise the form's email.
    email = (customer["email"] if customer else None) or session["customer_email"] or email
    if customer is None:
        customer = customers_create(e, {"email": email or "", "name": name or ""})
    pm: Obj | None = None
    if card is None and not card_optional(e, session):
        raise StripeError(
            402,
            "Your card number is incomplete.",
            type="card_error",
            code="incomplete_number",
            param="number",
        )
    if card is not None:
        pm = e.make_payment_method(card, billing_details={"email": email, "name": name})
        behaviour = e.card_behaviour(pm["id"])
        if behaviour in ("decline_attach",):
            raise e.card_error("card_declined", "generic_decline")
        if behaviour == "auth_required":
            raise e.card_error("authentication_required", "authentication_required")
        e.attach(pm, customer)
    discount_entries = [d for d in session["discounts"] or []]
    if promo_id:
        discount_entries = [{"coupon": None, "promotion_code": promo_id}]
    meta = e.m(session["id"])
    line_items = meta.get("line_items", [])
    sub_data = meta.get("subscription_data", {})
    changes: Obj = {
        "status": "complete",
        "customer": customer["id"],
        "customer_details": {
            "address": None,
            "email": email,
            "name": name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    }
    if session["mode"] == "subscription":
        if pm is not None:
            e.update(
                customer,
                {"invoice_settings": {**customer["invoice_settings"], "default_payment_method": pm["id"]}},
            )
        trial_settings = as_dict(
            sub_data.get("trial_settings", {}), param="subscription_data[trial_settings]"
        )
        end_behavior = as_dict(
            trial_settings.get("end_behavior", {}), param="subscription_data[trial_settings][end_behavior]"
        )
        trial_end = None
        if sub_data.get("trial_end"):
            trial_end = as_int(sub_data["trial_end"], param="subscription_data[trial_end]")
        elif sub_data.get("trial_period_days"):
            trial_end = (
                e.now
                + as_int(sub_data["trial_period_days"], param="subscription_data[trial_period_days]") * 86400
            )
        sub, error = create_subscription(
            e,
            customer=customer,
            items=[{"price": li["price"]["id"], "quantity": li["quantity"]} for li in line_items],
            metadata=as_dict(sub_data.get("metadata", {}), param="subscription_data[metadata]"),
            trial_end=trial_end,
            default_payment_method=pm["id"] if pm else None,
            payment_behavior="error_if_incomplete",
            trial_end_behavior=end_behavior.get("missing_payment_method", "create_invoice"),
            description=sub_data.get("description") or None,
            discount_factory=lambda sub_id: (
                e.discounts_from_params(discount_entries, customer=customer["id"], subscription=sub_id)
                if discount_entries
                else None
            ),
        )
        invoice = e.get("invoice", sub["latest_invoice"])
        discount_total = sum(d["amount"] for d in invoice["total_discount_amounts"])
        changes.update(
            {
                "subscription": sub["id"],
                "invoice": invoice["id"],
                "payment_status": "paid" if invoice["amount_paid"] > 0 else "no_payment_required",
                "amount_total": invoice["total"] if not trial_end else 0,
                "amount_subtotal": invoice["subtotal"] if not trial_end else session["amount_subtotal"],
                "total_details": {"amount_discount": discount_total, "amount_shipping": 0, "amount_tax": 0},
                "discounts": [
                    {"coupon": None, "discount": d, "promotion_code": None} for d in sub["discounts"]
                ]
                if sub["discounts"]
                else [],
            }
        )
        if trial_end:
            changes["amount_subtotal"] = 0
        for li in line_items:
            li["amount_discount"] = 0
    else:
        amount = session["amount_total"]
        pi = e.new_payment_intent(
            amount=amount,
            currency=session["currency"],
            customer=customer["id"],
            description=None,
            metadata=session["metadata"],
        )
        error = e.confirm_payment_intent(pi, pm["id"] if pm else None)
        if error is not None:
            raise error
        changes.update({"payment_intent": pi["id"], "payment_status": "paid"})
    changes["discounts"] = [
        {"coupon": d.get("coupon"), "promotion_code": d.get("promotion_code")} for d in discount_entries
    ]
    previous = {k: copy.deepcopy(session.get(k)) for k in changes}
    session.update(changes)
    e.emit("checkout.session.completed", session)
    del previous
    return session


@route("POST", r"/v1/billing_portal/sessions")
def portal_sessions_create(e: Engine, p: Obj) -> Obj:
    allow(p, "customer return_url configuration flow_data locale on_behalf_of")
    customer = e.get("customer", require(p, "customer"), param="customer")
    session_id = e.new_id("bps")
    secret = e.secret("portal", session_id)
    session = e.created(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": "bpc_1LocalStandIn0000000001",
            "created": e.now,
            "customer": customer["id"],
            "flow": None,
            "livemode": False,
            "locale": p.get("locale") or None,
            "on_behalf_of": None,
            "return_url": p.get("return_url") or None,
            "url": f"{e.base_url}/p/session/{secret}",
        }
    )
    e.m(secret)["portal_session"] = session_id
    return session


# --- test clocks (all share the stand-in's one clock) ----------------------------------------
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


# --- local control (not part of Stripe's API) -------------------------------------------------
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


def dispatch(e: Engine, method: str, path: str, params: Obj) -> tuple[int, Obj]:
    """Run the handler for ``method path``; StripeError/ParamError become Stripe's error shape."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            expand = as_list(params.get("expand", []), param="expand")
            result = handler(e, params, *match.groups())
            status = 200
            if isinstance(result, tuple):
                status, result = result
            return status, e.out(result, [str(x) for x in expand])
    allowed = [m for m, pattern, _ in ROUTES if pattern.match(path)]
    if allowed:
        raise StripeError(405, f"Unrecognized request URL ({method}: {path}).")
    raise StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


__all__ = ["API_VERSION", "ROUTES", "complete_checkout", "dispatch"]
