"""Shared plumbing of the endpoint modules: the route table, parameter checks, list filters and
search, and the dispatcher the server calls.

A handler gets the engine, the decoded parameters and the path's ids, and returns the object to
send (200) or ``(status, object)``. The server applies ``expand[]`` and the error shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_dict, as_int, as_list, check_known, require

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


def json_roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value))


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


def list_objects(
    e: Engine,
    p: Obj,
    kind: str,
    url: str,
    *,
    equal: str = "",
    extra: str = "",
    live: bool = False,
    created: bool = True,
    items: list[Obj] | None = None,
) -> Obj:
    """The one ``GET`` list handler every resource shares.

    Rejects parameters other than the paging ones, ``equal`` and ``extra`` (accepted, no effect);
    keeps only objects not deleted when ``live``; keeps those whose field equals each ``equal``
    parameter the request gives; filters on ``created[...]`` when ``created``; and returns
    Stripe's list page for ``url``. ``items``, when given, is the already narrowed list to start
    from instead of every object of ``kind``.
    """
    allow(p, f"{LIST} {equal} {extra}")
    objects = e.all(kind) if items is None else items
    if live:
        objects = [o for o in objects if not o.get("deleted")]
    for key in equal.split():
        if p.get(key):
            objects = [o for o in objects if o[key] == p[key]]
    if created:
        objects = created_filter(objects, p)
    return e.paginate(objects, p, url)


def refuse_automatic_tax(p: Obj) -> None:
    """``automatic_tax[enabled]``: the stand-in computes no taxes, so it refuses rather than
    answer untaxed amounts."""
    if as_dict(p.get("automatic_tax", {}), param="automatic_tax").get("enabled") in ("true", True):
        raise StripeError(
            400,
            "The local Stripe stand-in does not compute taxes.",
            code="parameter_unsupported",
            param="automatic_tax[enabled]",
        )
