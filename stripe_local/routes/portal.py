"""Billing portal sessions."""

from __future__ import annotations

from ..engine import Engine, Obj
from ..params import require
from ._common import allow, route


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
