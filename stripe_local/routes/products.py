"""Products, entitlement features and prices (and the legacy plans view of prices)."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError, not_found
from ..params import ParamError, as_bool, as_dict, as_float, as_int, as_list, require
from ._common import LIST, allow, created_filter, list_objects, metadata_update, route, search

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
    return list_objects(
        e,
        p,
        "entitlements.feature",
        "/v1/entitlements/features",
        equal="lookup_key",
        extra="archived",
        created=False,
    )


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
