"""Credit notes."""

from __future__ import annotations

from ..engine import Engine, Obj, StripeError
from ..params import ParamError, as_dict, as_int, as_list, require
from ._common import allow, list_objects, route
from .charges import create_refund


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
    return list_objects(e, p, "credit_note", "/v1/credit_notes", equal="customer invoice", created=False)


@route("GET", r"/v1/credit_notes/{id}")
def credit_notes_retrieve(e: Engine, p: Obj, cn_id: str) -> Obj:
    return e.get("credit_note", cn_id, label="credit note")
