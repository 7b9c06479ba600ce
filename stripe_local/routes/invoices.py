"""Invoices, previews and invoice items."""

from __future__ import annotations

import copy

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_bool, as_dict, as_int, as_list, require
from ._common import LIST, allow, list_objects, metadata_update, route, search
from .subscription_update import changed_items


@route("GET", r"/v1/invoices")
def invoices_list(e: Engine, p: Obj) -> Obj:
    return list_objects(
        e,
        p,
        "invoice",
        "/v1/invoices",
        equal="customer subscription status collection_method",
        extra="due_date",
    )


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
    if details.get("trial_end") == "now" and sub["status"] == "trialing":
        # Ending the trial now: the next invoice is the new period's, due at once.
        sub = {**copy.deepcopy(sub), "current_period_end": e.now}
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
