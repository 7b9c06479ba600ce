"""Disputes."""

from __future__ import annotations

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict
from ._common import allow, list_objects, metadata_update, route


@route("GET", r"/v1/disputes")
def disputes_list(e: Engine, p: Obj) -> Obj:
    return list_objects(e, p, "dispute", "/v1/disputes", equal="charge payment_intent")


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
