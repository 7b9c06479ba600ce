"""Events."""

from __future__ import annotations

from ..engine import Engine, Obj
from ..params import as_list
from ._common import LIST, allow, created_filter, route


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
