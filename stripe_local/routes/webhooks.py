"""Webhook endpoints."""

from __future__ import annotations

from ..engine import Engine, Obj
from ..params import ParamError, as_bool, as_dict, as_list, require
from ._common import allow, list_objects, metadata_update, route


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
    return list_objects(e, p, "webhook_endpoint", "/v1/webhook_endpoints", live=True, created=False)


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
