"""Hosted pages: Checkout (``/c/pay/<session>``), the customer portal (``/p/session/<secret>``),
hosted invoices (``/i/<invoice>`` and ``/i/<invoice>/pdf``) and receipts.

Plain HTML forms with inline CSS (nothing loaded from outside), so a person, the Django test
client's neighbour ``urllib`` or a browser test can use them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import routes
from .engine import Engine, Obj, StripeError
from .params import ParamError, parse

PageResult = tuple[int, str, bytes, dict[str, str]]
CSS = """
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
main{max-width:34rem;margin:2rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 2px 8px #0001}
h1{font-size:1.4rem;margin-top:0} .muted{color:#697386;font-size:.9rem}
label{display:block;margin:.8rem 0 .2rem;font-size:.9rem} input,select{width:100%;padding:.5rem;box-sizing:border-box;border:1px solid #ccd;border-radius:4px}
button{margin-top:1rem;padding:.6rem 1rem;border:0;border-radius:4px;background:#635bff;color:#fff;font-weight:600;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1a1f36} .error{background:#fde8e8;color:#9b1c1c;padding:.6rem;border-radius:4px}
.notice{background:#e6f6ec;color:#0e6245;padding:.6rem;border-radius:4px} table{width:100%;border-collapse:collapse} td,th{text-align:left;padding:.3rem 0}
.row{display:flex;gap:.5rem} .row>div{flex:1} .sub{border:1px solid #e3e8ee;border-radius:6px;padding:1rem;margin:1rem 0}
.badge{display:inline-block;padding:.1rem .4rem;border-radius:4px;background:#e3e8ee;font-size:.8rem}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def money(amount: int | None, currency: str | None) -> str:
    amount = amount or 0
    sign = "-" if amount < 0 else ""
    return (
        f"{sign}${abs(amount) / 100:,.2f}"
        if (currency or "usd") == "usd"
        else f"{sign}{abs(amount) / 100:,.2f} {esc((currency or '').upper())}"
    )


def date(ts: int | None) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%d %b %Y") if ts else ""


def page(title: str, body: str, status: int = 200) -> PageResult:
    document = f"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width,initial-scale=1'><title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}</main><p class=muted style='text-align:center'>Local Stripe stand-in · test mode</p></body></html>"
    return status, "text/html; charset=utf-8", document.encode(), {}


def redirect(url: str) -> PageResult:
    return 303, "text/html; charset=utf-8", b"", {"Location": url}


def card_fields(prefix: str = "", *, required: bool = True) -> str:
    req = " required" if required else ""
    return (
        f"<label for={prefix}card_number>Card number</label><input id={prefix}card_number name=card_number inputmode=numeric autocomplete=cc-number placeholder='4242 4242 4242 4242'{req}>"
        f"<div class=row><div><label for={prefix}exp>Expiry (MM / YY)</label><input id={prefix}exp name=exp placeholder='12 / 34' autocomplete=cc-exp{req}></div>"
        f"<div><label for={prefix}cvc>CVC</label><input id={prefix}cvc name=cvc placeholder=123 autocomplete=cc-csc{req}></div></div>"
    )


def card_from_form(form: Obj) -> Obj:
    exp = str(form.get("exp", ""))
    match = re.match(r"^\s*(\d{1,2})\s*/?\s*(\d{2,4})\s*$", exp)
    if form.get("exp_month") and form.get("exp_year"):
        month, year = str(form["exp_month"]), str(form["exp_year"])
    elif match:
        month, year = match.group(1), match.group(2)
    else:
        raise StripeError(
            402,
            "Your card's expiration date is incomplete.",
            type="card_error",
            code="invalid_expiry_year",
            param="exp",
        )
    return {
        "number": str(form.get("card_number", "")).replace(" ", ""),
        "exp_month": month,
        "exp_year": year,
        "cvc": form.get("cvc") or None,
    }


def guarded(engine: Engine, action: Callable[[], Any]) -> Any:
    """Run a page action atomically: a refusal (other than a declined card) changes nothing."""
    with engine.lock, engine.request(None, None):
        saved = routes.json_roundtrip(engine.snapshot())
        try:
            return action()
        except (StripeError, ParamError) as error:
            if not (isinstance(error, StripeError) and error.status == 402):
                engine.counters, engine.objects, engine.meta = (
                    saved["counters"],
                    saved["objects"],
                    saved["meta"],
                )
                engine.events, engine.deliveries = saved["events"], saved["deliveries"]
            raise


def handle(engine: Engine, method: str, path: str, query: str, body: str) -> PageResult | None:
    form = parse(body) if method == "POST" else parse(query)
    for pattern, handler in PAGES:
        match = re.match(pattern, path)
        if match:
            try:
                return handler(engine, method, form, *match.groups())
            except StripeError as error:
                if error.status == 404:
                    return page("Not found", f"<h1>Not found</h1><p>{esc(error.message)}</p>", 404)
                raise
    return None


# --- checkout ---------------------------------------------------------------------------------
def checkout_page(engine: Engine, method: str, form: Obj, session_id: str) -> PageResult:
    with engine.lock:
        session = engine.get("checkout.session", session_id, label="checkout.session")
        error = None
        error_status = 200
        if method == "POST" and session["status"] == "open":
            try:
                optional = routes.card_optional(engine, session) and not form.get("card_number")
                card = None if optional else card_from_form(form)
                guarded(
                    engine,
                    lambda: routes.complete_checkout(
                        engine,
                        session,
                        card=card,
                        email=form.get("email") or None,
                        name=form.get("name") or None,
                        promotion_code=form.get("promotion_code") or None,
                    ),
                )
                return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]))
            except (StripeError, ParamError) as exc:
                error = exc.message
                error_status = exc.status if isinstance(exc, StripeError) else 400
        session = engine.get("checkout.session", session_id, label="checkout.session")
        items = engine.m(session_id).get("line_items", [])
        sub_data = engine.m(session_id).get("subscription_data", {})
    rows = "".join(
        f"<tr><td>{esc(li['description'])} × {li['quantity']}</td><td>{money(li['amount_total'], li['currency'])}"
        + (f" / {esc(li['price']['recurring']['interval'])}" if li["price"]["recurring"] else "")
        + "</td></tr>"
        for li in items
    )
    discount = (session.get("total_details") or {}).get("amount_discount") or 0
    if discount:
        rows += f"<tr><td>Discount</td><td>{money(-discount, session['currency'])}</td></tr>"
    if session["status"] != "open":
        return page(
            "Checkout",
            f"<h1>This checkout session is {esc(session['status'])}.</h1><p><a href='{esc(session['success_url'].replace('{CHECKOUT_SESSION_ID}', session['id']))}'>Continue</a></p>",
            410 if session["status"] == "expired" else 200,
        )
    trial = ""
    if sub_data.get("trial_period_days"):
        trial = (
            f"<p class=notice>{esc(sub_data['trial_period_days'])}-day free trial, then billed as shown.</p>"
        )
    email_value = session["customer_details"]["email"] if session["customer_details"] else ""
    promo = (
        "<label for=promotion_code>Promotion code</label><input id=promotion_code name=promotion_code>"
        if session["allow_promotion_codes"]
        else ""
    )
    cancel = (
        f"<p><a href='{esc(session['cancel_url'])}'>← Cancel and go back</a></p>"
        if session["cancel_url"]
        else ""
    )
    body = (
        f"<h1>Pay Relay</h1>{trial}<table>{rows}</table><p><strong>Total due today: {money(0 if sub_data.get('trial_period_days') or sub_data.get('trial_end') else session['amount_total'], session['currency'])}</strong></p>"
        + (f"<p class=error role=alert>{esc(error)}</p>" if error else "")
        + f"<form method=post><label for=email>Email</label><input id=email name=email type=email value='{esc(email_value)}'{' readonly' if email_value else ''} required><label for=name>Name on card</label><input id=name name=name>"
        + (
            "<p class=muted>No card needed to start the trial.</p>" + card_fields(required=False)
            if routes.card_optional(engine, session)
            else card_fields()
        )
        + promo
        + "<button type=submit>Subscribe</button></form>"
        + cancel
        + "<p class=muted>Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; 4000 0000 0000 0341 attaches but later charges fail; 4000 0000 0000 3220 requires authentication.</p>"
    )
    return page("Checkout", body, error_status)


# --- customer portal --------------------------------------------------------------------------
def portal_page(engine: Engine, method: str, form: Obj, secret: str) -> PageResult:
    with engine.lock:
        session_id = engine.meta.get(secret, {}).get("portal_session")
        if not session_id:
            return page("Not found", "<h1>This portal link is invalid or has expired.</h1>", 404)
        session = engine.get("billing_portal.session", session_id)
        customer = engine.get("customer", session["customer"])
        message, error = "", ""
        error_status = 200
        if method == "POST":
            try:
                message = guarded(engine, lambda: portal_action(engine, customer, form))
                return redirect(
                    f"{engine.base_url}/p/session/{secret}?" + urllib.parse.urlencode({"message": message})
                )
            except (StripeError, ParamError) as exc:
                error = exc.message
                error_status = exc.status if isinstance(exc, StripeError) else 400
        message = str(form.get("message", "")) if method == "GET" else ""
        subs = [
            s
            for s in engine.all("subscription")
            if s["customer"] == customer["id"] and s["status"] not in ("canceled", "incomplete_expired")
        ]
        prices = [p for p in engine.all("price") if p["active"] and p["recurring"]]
        pm_id = engine.default_payment_method(customer)
        pm = engine.find("payment_method", pm_id) if pm_id else None
        invoices = sorted(
            (
                i
                for i in engine.all("invoice")
                if i["customer"] == customer["id"] and i["status"] in ("open", "paid")
            ),
            key=lambda i: i["created"],
            reverse=True,
        )[:10]
        products = {p["id"]: p["name"] for p in engine.all("product")}
    parts = [f"<h1>Billing · {esc(customer['email'] or customer['id'])}</h1>"]
    if message:
        parts.append(f"<p class=notice role=status>{esc(message)}</p>")
    if error:
        parts.append(f"<p class=error role=alert>{esc(error)}</p>")
    for sub in subs:
        price = sub["items"]["data"][0]["price"]
        name = products.get(price["product"], price["product"])
        state = f"<span class=badge>{esc(sub['status'])}</span>"
        if sub["cancel_at_period_end"]:
            state += f" <span class=badge>cancels {date(sub['current_period_end'])}</span>"
        options = "".join(
            f"<option value='{esc(p['id'])}'{' selected' if p['id'] == price['id'] else ''}>{esc(products.get(p['product'], p['product']))} · {money(p['unit_amount'], p['currency'])} / {esc(p['recurring']['interval'])}</option>"
            for p in prices
        )
        if sub["cancel_at_period_end"]:
            toggle = f"<form method=post><input type=hidden name=action value=resume><input type=hidden name=subscription value='{esc(sub['id'])}'><button type=submit>Renew plan</button></form>"
        else:
            toggle = f"<form method=post><input type=hidden name=action value=cancel><input type=hidden name=subscription value='{esc(sub['id'])}'><button type=submit class=secondary>Cancel plan</button></form>"
        parts.append(
            f"<div class=sub><h2>{esc(name)} {state}</h2><p>{money(price['unit_amount'], price['currency'])} / {esc(price['recurring']['interval'])} · current period ends {date(sub['current_period_end'])}</p>"
            f"<form method=post><input type=hidden name=action value=switch><input type=hidden name=subscription value='{esc(sub['id'])}'><label for=price-{esc(sub['id'])}>Change plan</label><select id=price-{esc(sub['id'])} name=price>{options}</select><button type=submit>Update plan</button></form>{toggle}</div>"
        )
    if not subs:
        parts.append("<p>No active subscription.</p>")
    card = (
        f"{esc(pm['card']['brand'])} •••• {esc(pm['card']['last4'])} (expires {pm['card']['exp_month']}/{pm['card']['exp_year']})"
        if pm
        else "none"
    )
    parts.append(
        f"<h2>Payment method</h2><p>{card}</p><form method=post><input type=hidden name=action value=card>{card_fields('pm-')}<button type=submit>Update card</button></form>"
    )
    if invoices:
        rows = "".join(
            f"<tr><td>{date(i['created'])}</td><td>{money(i['total'], i['currency'])}</td><td>{esc(i['status'])}</td><td><a href='{esc(i['hosted_invoice_url'])}'>View</a></td></tr>"
            for i in invoices
        )
        parts.append(f"<h2>Invoices</h2><table>{rows}</table>")
    if session["return_url"]:
        parts.append(f"<p><a href='{esc(session['return_url'])}'>← Return</a></p>")
    return page("Billing portal", "".join(parts), error_status)


def portal_action(engine: Engine, customer: Obj, form: Obj) -> str:
    action = form.get("action")
    sub = None
    if action in ("cancel", "resume", "switch"):
        sub = engine.get("subscription", form.get("subscription"), param="subscription")
        if sub["customer"] != customer["id"]:
            raise StripeError(404, "No such subscription", code="resource_missing")
    if action == "cancel" and sub:
        routes.subscriptions_update(engine, {"cancel_at_period_end": "true"}, sub["id"])
        return f"Your plan will be canceled on {date(sub['current_period_end'])}."
    if action == "resume" and sub:
        routes.subscriptions_update(engine, {"cancel_at_period_end": "false"}, sub["id"])
        return "Your plan will renew."
    if action == "switch" and sub:
        item = sub["items"]["data"][0]
        if form.get("price") == item["price"]["id"]:
            return "That is already your plan."
        routes.subscriptions_update(
            engine,
            {
                "items": [{"id": item["id"], "price": form.get("price")}],
                "proration_behavior": "always_invoice",
            },
            sub["id"],
        )
        return "Your plan was updated."
    if action == "card":
        pm = engine.make_payment_method(card_from_form(form))
        engine.attach(pm, customer)
        routes.customer_invoice_settings(engine, customer, {"default_payment_method": pm["id"]})
        # The portal makes the new card the default of the customer's subscriptions too.
        for sub in engine.all("subscription"):
            if (
                sub["customer"] == customer["id"]
                and sub["default_payment_method"]
                and sub["status"] not in ("canceled", "incomplete_expired")
            ):
                engine.set_subscription(sub, {"default_payment_method": pm["id"]})
        # Stripe retries outstanding invoices when the customer fixes the card in the portal.
        for invoice in engine.all("invoice"):
            if (
                invoice["customer"] == customer["id"]
                and invoice["status"] == "open"
                and invoice["subscription"]
            ) and (
                engine.attempt_invoice(
                    invoice, pm_id=pm["id"], retry_schedule=invoice["next_payment_attempt"] is not None
                )
                is None
            ):
                engine.after_invoice_paid(invoice)
        return f"Card ending {pm['card']['last4']} saved."
    raise ParamError("Unknown action.", param="action")


# --- hosted invoices and receipts -------------------------------------------------------------
def invoice_page(engine: Engine, method: str, form: Obj, invoice_id: str) -> PageResult:
    with engine.lock:
        invoice = engine.get("invoice", invoice_id)
        error = ""
        error_status = 200
        if method == "POST" and invoice["status"] == "open":
            try:
                card = card_from_form(form)

                def pay() -> None:
                    customer = engine.get("customer", invoice["customer"])
                    pm = engine.make_payment_method(card)
                    engine.attach(pm, customer)
                    failure = engine.attempt_invoice(
                        invoice, pm_id=pm["id"], retry_schedule=invoice["next_payment_attempt"] is not None
                    )
                    if failure is not None:
                        raise failure
                    engine.after_invoice_paid(invoice)

                guarded(engine, pay)
                return redirect(f"{engine.base_url}/i/{invoice_id}")
            except (StripeError, ParamError) as exc:
                error = exc.message
                error_status = exc.status if isinstance(exc, StripeError) else 400
        invoice = engine.get("invoice", invoice_id)
    rows = "".join(
        f"<tr><td>{esc(line['description'])}</td><td>{money(line['amount'], line['currency'])}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    body = (
        f"<h1>Invoice {esc(invoice['number'] or invoice['id'])}</h1><p>Status: <span class=badge>{esc(invoice['status'])}</span></p>"
        f"<table>{rows}<tr><th>Total</th><th>{money(invoice['total'], invoice['currency'])}</th></tr><tr><th>Amount due</th><th>{money(invoice['amount_due'], invoice['currency'])}</th></tr></table>"
        f"<p><a href='{esc(invoice['invoice_pdf'])}'>Download PDF</a></p>"
    )
    if error:
        body += f"<p class=error role=alert>{esc(error)}</p>"
    if invoice["status"] == "open":
        body += f"<form method=post>{card_fields()}<button type=submit>Pay {money(invoice['amount_remaining'], invoice['currency'])}</button></form>"
    return page(f"Invoice {invoice['number']}", body, error_status)


def pdf_escape(text: str) -> str:
    return (
        text.encode("latin-1", "replace")
        .decode("latin-1")
        .replace("\\", "\\\\")
        .replace("(", "\\(")
        .replace(")", "\\)")
    )


def invoice_pdf(engine: Engine, method: str, form: Obj, invoice_id: str) -> PageResult:
    with engine.lock:
        invoice = engine.get("invoice", invoice_id)
    lines = [
        f"Invoice {invoice['number'] or invoice['id']}",
        f"Status: {invoice['status']}",
        f"Customer: {invoice['customer_email'] or invoice['customer']}",
        "",
    ]
    lines += [
        f"{line['description']}: {money(line['amount'], line['currency'])}"
        for line in invoice["lines"]["data"]
    ]
    lines += [
        "",
        f"Total: {money(invoice['total'], invoice['currency'])}",
        f"Amount due: {money(invoice['amount_due'], invoice['currency'])}",
    ]
    text = "BT /F1 12 Tf 50 780 Td 16 TL " + " ".join(f"({pdf_escape(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for index, obj in enumerate(objects, start=1):
        offsets.append(len(out.encode("latin-1")))
        out += f"{index} 0 obj\n{obj}\nendobj\n"
    xref = len(out.encode("latin-1"))
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(
        f"{o:010d} 00000 n \n" for o in offsets
    )
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return (
        200,
        "application/pdf",
        out.encode("latin-1"),
        {"Content-Disposition": f'inline; filename="{invoice["number"] or invoice_id}.pdf"'},
    )


def receipt_page(engine: Engine, method: str, form: Obj, charge_id: str) -> PageResult:
    with engine.lock:
        charge = engine.get("charge", charge_id)
    return page(
        "Receipt",
        f"<h1>Receipt</h1><p>{money(charge['amount'], charge['currency'])} · {esc(charge['status'])} · {date(charge['created'])}</p>",
    )


def index_page(engine: Engine, method: str, form: Obj) -> PageResult:
    with engine.lock:
        counts = {kind: len(objs) for kind, objs in sorted(engine.objects.items())}
        now = engine.now
    rows = "".join(f"<tr><td>{esc(kind)}</td><td>{count}</td></tr>" for kind, count in counts.items())
    return page(
        "Local Stripe",
        f"<h1>Local Stripe stand-in</h1><p>Clock: {esc(dt.datetime.fromtimestamp(now, tz=dt.UTC).isoformat())}</p><table>{rows}</table>",
    )


PAGES: list[tuple[str, Callable[..., PageResult]]] = [
    (r"^/c/pay/([A-Za-z0-9_]+)$", checkout_page),
    (r"^/p/session/([A-Za-z0-9_]+)$", portal_page),
    (r"^/i/([A-Za-z0-9_]+)$", invoice_page),
    (r"^/i/([A-Za-z0-9_]+)/pdf$", invoice_pdf),
    (r"^/receipts/([A-Za-z0-9_]+)$", receipt_page),
    (r"^/$", index_page),
]
