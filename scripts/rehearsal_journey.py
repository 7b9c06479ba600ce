"""The production rehearsal's journey of a first customer (``scripts/rehearse_production.py``):
HTTPS and static files through the edge, a sign-up verified by the link in the e-mail, sign-in, a
post, the catalogue created in "Stripe", a Checkout paid on the stand-in, the webhooks processed
by the worker and beat's periodic tasks run by it. One method per step, each adding its notes."""

from __future__ import annotations

import html
import re
import time
import urllib.parse
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
from rehearsal_web import Browser, Clock, RehearsalError, expect, form_for, forms_of, wait_for

from production_shape.processes import Processes
from production_shape.services import Mailbox, text_of

# The Team plan as an operator types it into Stripe's dashboard (docs/billing.md, "Plans").
TEAM_METADATA = {
    "metadata[plan]": "team",
    "metadata[rank]": "20",
    "metadata[max_post_length]": "5000",
    "metadata[max_images_per_post]": "20",
    "metadata[posts_per_day]": "5000",
    "metadata[max_api_keys]": "25",
    "metadata[api_requests_per_minute]": "1200",
    "metadata[features]": "Everything in Pro;Highest API limits",
}


class Journey:
    """The customer's steps of ``rehearse_production.Rehearsal`` (which sets these up)."""

    clock: Clock
    processes: Processes
    mailbox: Mailbox
    person: Browser
    site: str
    cert: Path
    ports: dict[str, int]
    stripe_base: str
    address: str
    handle: str
    password: str
    price: dict[str, Any]
    pricing: str
    success_url: str
    beat_started: float

    def stripe(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def step_https(self, notes: list[str]) -> None:
        direct = f"http://127.0.0.1:{self.ports['web']}"
        plain = requests.get(f"{direct}/explore/", allow_redirects=False, timeout=15)
        want = f"https://127.0.0.1:{self.ports['web']}/explore/"
        if plain.status_code != 301 or plain.headers.get("Location") != want:
            raise RehearsalError(
                f"plain HTTP: {plain.status_code} {plain.headers.get('Location')}, expected 301 {want}"
            )
        proxied = requests.get(
            f"{direct}/explore/",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
            allow_redirects=False,
            timeout=15,
        )
        if proxied.status_code != 200:
            raise RehearsalError(f"X-Forwarded-Proto https: {proxied.status_code}, expected 200")
        hsts = proxied.headers.get("Strict-Transport-Security", "")
        if "max-age=" not in hsts:
            raise RehearsalError("no Strict-Transport-Security on the HTTPS answer")
        health = requests.get(f"{direct}/healthz", allow_redirects=False, timeout=15)
        if health.status_code != 200:
            raise RehearsalError(f"/healthz over plain HTTP (Railway's check): {health.status_code}")
        notes.append(
            f"plain 301 -> https; X-Forwarded-Proto https 200 with HSTS ({hsts}); /healthz plain 200"
        )

    def step_static(self, notes: list[str]) -> None:
        home = expect(Browser(self.site, self.cert).get("/"), 200, "the welcome page")
        assets = re.findall(r'(?:href|src)="(/static/[^"]+\.[0-9a-f]{12}\.(?:css|js))"', home.text)
        css = next((a for a in assets if a.endswith(".css")), None)
        js = next((a for a in assets if a.endswith(".js")), None)
        if css is None or js is None:
            raise RehearsalError(f"no hashed CSS and JS names on the page (found {assets})")
        for asset in (css, js):
            response = requests.get(
                f"{self.site}{asset}",
                headers={"Accept-Encoding": "br, gzip"},
                verify=str(self.cert),
                timeout=15,
            )
            encoding = response.headers.get("Content-Encoding", "")
            cache = response.headers.get("Cache-Control", "")
            if response.status_code != 200 or encoding not in {"gzip", "br"} or "immutable" not in cache:
                raise RehearsalError(
                    f"{asset}: {response.status_code}, Content-Encoding {encoding!r}, Cache-Control {cache!r}"
                )
            notes.append(f"{asset} {encoding}, {cache}")

    def step_signup(self, notes: list[str]) -> None:
        visitor = Browser(self.site, self.cert)
        page = expect(visitor.get("/accounts/signup/"), 200, "the sign-up page")
        fields = form_for(page.text, "/accounts/signup/")
        fields.update(
            email=self.address, username=self.handle, password1=self.password, password2=self.password
        )
        sent = expect(visitor.post("/accounts/signup/", fields), 302, "signing up")
        if "/accounts/confirm-email/" not in sent.headers.get("Location", ""):
            raise RehearsalError(f"after sign-up: {sent.headers.get('Location')}")

        def received() -> EmailMessage | None:
            self.processes.check_alive("worker")
            return next(iter(self.mailbox.to(self.address)), None)

        message = wait_for("the verification e-mail at the SMTP server", received, self.clock, 60)
        text = text_of(message)
        links = re.findall(r"https://[^\s\"'<>]+/accounts/confirm-email/[^\s\"'<>]+", text)
        if not links or not links[0].startswith(self.site + "/"):
            raise RehearsalError(f"no confirmation link on {self.site} in the e-mail: {text[:500]}")
        # Opened later, on another device (no session): the address is confirmed, not signed in.
        reader = Browser(self.site, self.cert)
        confirm_page = expect(reader.get(links[0]), 200, "the confirmation link")
        # The page's form posts to a confirmation URL of its own (allauth signs the key afresh).
        form = next(
            (f for f in forms_of(confirm_page.text) if "/accounts/confirm-email/" in f["action"]), None
        )
        if form is None:
            raise RehearsalError("no confirmation form on the confirmation page")
        expect(reader.post(html.unescape(form["action"]), form["fields"]), 302, "confirming the address")
        notes.append(
            f"e-mail {message['Subject']!r} from {message['From']!r}; its link confirmed the address"
        )

    def step_signin(self, notes: list[str]) -> None:
        page = expect(self.person.get("/accounts/login/"), 200, "the sign-in page")
        fields = form_for(page.text, "/accounts/login/")
        fields.update(login=self.address, password=self.password)
        signed_in = expect(self.person.post("/accounts/login/", fields), 302, "signing in")
        if signed_in.headers.get("Location") != "/":
            raise RehearsalError(f"signing in led to {signed_in.headers.get('Location')} (not verified?)")
        cookie = next((c for c in self.person.session.cookies if c.name == "sessionid"), None)
        if cookie is None or not cookie.secure:
            raise RehearsalError("the session cookie is missing or not Secure")
        notes.append("redirected home; the session cookie is Secure")

    def step_post(self, notes: list[str]) -> None:
        home = expect(self.person.get("/"), 200, "the home feed")
        text = f"Rehearsing the release {self.handle}"
        fields = form_for(home.text, "/")
        fields.update(text=text, visibility="public")
        expect(self.person.post("/", fields, multipart=True), 302, "posting")
        if text not in expect(self.person.get("/"), 200, "the home feed after posting").text:
            raise RehearsalError("the post is not in the author's home feed")
        if text not in expect(self.person.get(f"/@{self.handle}"), 200, "the profile").text:
            raise RehearsalError("the post is not on the profile")
        notes.append("in the home feed and on the profile")

    def step_catalogue(self, notes: list[str]) -> None:
        # What the operator does in Stripe's dashboard (docs/billing.md, "Plans").
        product = self.stripe("POST", "/v1/products", {"name": "Team", **TEAM_METADATA})
        self.price = self.stripe(
            "POST",
            "/v1/prices",
            {
                "product": product["id"],
                "currency": "usd",
                "unit_amount": "2400",
                "recurring[interval]": "month",
                "lookup_key": "team_monthly",
            },
        )

        def on_sale() -> str | None:
            self.processes.check_alive("web", "worker")
            page = expect(self.person.get("/billing/pricing/"), 200, "the pricing page")
            return page.text if self.price["id"] in page.text else None

        self.pricing = wait_for("the Team plan on the pricing page", on_sale, self.clock, 60, every=1.0)
        notes.append(f"{product['id']} / {self.price['id']} on the pricing page")

    def step_subscribe(self, notes: list[str]) -> None:
        fields = form_for(self.pricing, "/billing/subscribe/", price_id=self.price["id"])
        to_checkout = expect(self.person.post("/billing/subscribe/", fields), 303, "subscribing")
        checkout_url = to_checkout.headers["Location"]
        if not checkout_url.startswith(f"{self.stripe_base}/c/pay/"):
            raise RehearsalError(f"subscribe sent the person to {checkout_url}")
        checkout_page = requests.get(checkout_url, timeout=30)
        if checkout_page.status_code != 200 or "Team" not in checkout_page.text:
            raise RehearsalError(f"the Checkout page: {checkout_page.status_code}")
        card = {"card_number": "4242424242424242", "exp": "12 / 34", "cvc": "123"}
        paid = requests.post(
            checkout_url,
            data={"email": self.address, "name": "Rehearsal Person", **card},
            allow_redirects=False,
            timeout=30,
        )
        self.success_url = paid.headers.get("Location", "")
        if paid.status_code != 303 or not self.success_url.startswith(
            f"{self.site}/billing/success/?session_id=cs_"
        ):
            raise RehearsalError(f"paying: {paid.status_code} -> {self.success_url!r}")
        notes.append(f"paid on {urllib.parse.urlsplit(checkout_url).path}; back to /billing/success/")

    def step_subscribed(self, notes: list[str]) -> None:
        needed = {"checkout.session.completed", "customer.subscription.created", "invoice.paid"}

        # The billing page reads only what the webhooks wrote (the success page would ask Stripe).
        def subscribed() -> tuple[str, list[tuple[Any, ...]]] | None:
            self.processes.check_alive("web", "worker")
            rows = self.sql("SELECT event_type, state FROM billing_webhookinbox ORDER BY id")
            if not needed <= {event_type for event_type, _ in rows} or any(s != "done" for _, s in rows):
                return None
            page = expect(self.person.get("/billing/"), 200, "the billing page")
            return (page.text, rows) if 'data-status="active"' in page.text else None

        try:
            billing, rows = wait_for(
                "an active subscription on /billing/", subscribed, self.clock, 60, every=1.0
            )
        except RehearsalError as exc:
            rows = self.sql("SELECT event_type, state FROM billing_webhookinbox ORDER BY id")
            raise RehearsalError(f"{exc}; webhook events: {rows}") from exc
        if "Team" not in billing or "Renews on" not in billing:
            raise RehearsalError("the billing page does not show the Team plan renewing")
        thanks = expect(self.person.get(self.success_url), 200, "the success page")
        if "Team" not in thanks.text:
            raise RehearsalError("the success page does not name the plan")
        notes.append(
            f"Team, active, renewing; {len(rows)} webhook events received, all processed by the worker"
        )

    def step_beat(self, notes: list[str]) -> None:
        def beat_ran() -> str | None:
            self.processes.check_alive("beat", "worker")
            beat_log = self.processes.log_path("beat").read_text(errors="replace")
            worker_log = self.processes.log_path("worker").read_text(errors="replace")
            sent = "Sending due task outbox-send-due" in beat_log
            done = re.search(r"outbox\.tasks\.email_send_due\[[^\]]+\] succeeded", worker_log)
            return "ok" if sent and done else None

        # Beat sends an interval task first one interval after it starts (60 s for this one).
        waited = 100 - (time.monotonic() - self.beat_started)
        wait_for("beat's outbox-send-due run by the worker", beat_ran, self.clock, max(waited, 5), every=1.0)
        notes.append("outbox-send-due sent by beat, succeeded in the worker")
