"""The fault drill's simulated users (``bench/fault_drill.py``): what each does, as a person
does it, and the record of every answer it saw."""

from __future__ import annotations

import random
import re
import secrets
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from fault_drill import Drill

PASSWORD = secrets.token_urlsafe(18)  # the simulated users' (one run only)
TIMEOUT = 20.0  # seconds a simulated user waits for one answer

# --- What users saw ---------------------------------------------------------------------------------


@dataclass
class Record:
    user: str
    action: str
    method: str
    target: str  # "web" or "stripe"
    path: str
    started: float
    ended: float
    status: int | None = None
    error: str = ""
    request_id: str = ""
    location: str = ""


@dataclass
class Kill:
    at: float
    what: str
    detail: str = ""
    until: float = 0.0  # when what was killed answered again (the stand-in)


@dataclass
class Outcomes:
    """What users did, to compare with the database afterwards."""

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> {user, acknowledged, gave_up}
    follows: list[tuple[str, str, bool]] = field(default_factory=list)  # (follower, followee, acknowledged)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # user -> {paid, ready, session}


def idempotency_key() -> str:
    """A new ``Idempotency-Key`` for one API write: its retries send the same one, so a 503
    whose write did commit is answered with the stored 201 instead of done twice."""
    return str(uuid.uuid4())


def retryable(response: requests.Response) -> bool:
    """Whether an API write's answer invites the same request again: 5xx, 429, or 409 while the
    first try with the same key is still running (``idempotency_key_in_progress``)."""
    if response.status_code >= 500 or response.status_code == 429:
        return True
    if response.status_code != 409:
        return False
    try:
        return response.json()["error"]["code"] == "idempotency_key_in_progress"
    except (ValueError, KeyError, TypeError):
        return False


# --- A simulated user -----------------------------------------------------------------------------------


class SimulatedUser:
    def __init__(self, drill: Drill, handle: str, index: int) -> None:
        self.drill = drill
        self.handle = handle
        self.index = index
        self.http = requests.Session()
        self.rng = random.Random(index)  # noqa: S311 - not crypto: a reproducible mix of actions
        self.posts = 0
        payers = drill.options.payers
        outage = drill.options.redis_outage
        # Payers start checkout at different moments: before, during and after the Redis outage,
        # one (the victim) just before the stand-in kill.
        starts = [3, 14, 24, 9 + outage, 17 + outage, 4 + outage, 26 + outage, 35]
        self.pay_at: float | None = starts[index % len(starts)] if index < payers else None
        self.victim = index == 3 and payers > 3

    # -- HTTP with the record of what the user saw

    def call(
        self, action: str, method: str, url: str, *, target: str = "web", **kwargs: Any
    ) -> requests.Response | None:
        request_id = uuid.uuid4().hex
        headers = dict(kwargs.pop("headers", {}) or {})
        if target == "web":
            headers["X-Request-ID"] = request_id
            csrf = self.http.cookies.get("csrftoken")
            if csrf and method != "GET":
                headers["X-CSRFToken"] = csrf
        rec = Record(self.handle, action, method, target, url, self.drill.now(), 0.0, request_id=request_id)
        try:
            response = self.http.request(
                method, url, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            rec.ended, rec.error = self.drill.now(), type(exc).__name__
            self.drill.record(rec)
            return None
        for cookie in self.http.cookies:
            cookie.secure = False  # sent back over loopback HTTP as a browser sends them over TLS
        rec.ended, rec.status = self.drill.now(), response.status_code
        rec.location = response.headers.get("Location", "")
        self.drill.record(rec)
        return response

    def retry_wait(self, response: requests.Response | None) -> None:
        delay = 1.0
        if response is not None and response.headers.get("Retry-After", "").isdigit():
            delay = float(response.headers["Retry-After"])
        time.sleep(delay)

    # -- actions

    def login(self) -> bool:
        web = self.drill.web
        for _ in range(10):
            page = self.call("login", "GET", f"{web}/accounts/login/")
            if page is not None and page.status_code == 200:
                response = self.call(
                    "login",
                    "POST",
                    f"{web}/accounts/login/",
                    data={
                        "login": f"{self.handle}@example.com",
                        "password": PASSWORD,
                        "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
                    },
                )
                if response is not None and response.status_code == 302:
                    return True
            self.retry_wait(page)
        return False

    def browse(self) -> None:
        web = self.drill.web
        choice = self.rng.random()
        if choice < 0.45:
            url = f"{web}/"
        elif choice < 0.7:
            url = f"{web}/explore/"
        else:
            url = f"{web}/@{self.rng.choice(self.drill.handles)}"
        response = self.call("browse", "GET", url)
        if response is None or response.status_code >= 500:
            self.retry_wait(response)
            self.call("browse", "GET", url)  # a person reloads once

    def post(self) -> None:
        token = f"dr{self.index}x{self.posts}q{uuid.uuid4().hex[:8]}"
        self.posts += 1
        outcome = {"user": self.handle, "acknowledged": False, "gave_up": False}
        self.drill.outcomes.posts[token] = outcome
        deadline = time.monotonic() + 25
        key = idempotency_key()  # one per submit, sent again on every retry of it
        while True:
            response = self.call(
                "post",
                "POST",
                f"{self.drill.web}/api/v1/posts/",
                json={"text": f"Drill post {token}"},
                headers={"Idempotency-Key": key},
            )
            if response is not None and response.status_code == 201:
                outcome["acknowledged"] = True
                return
            if response is not None and not retryable(response):
                outcome["gave_up"] = True  # refused (4xx): counted as an error seen
                return
            if time.monotonic() > deadline:
                outcome["gave_up"] = True
                return
            self.retry_wait(response)

    def follow(self) -> None:
        others = [h for h in self.drill.handles if h != self.handle]
        target = self.rng.choice(others)
        deadline = time.monotonic() + 25
        key = idempotency_key()
        while True:
            response = self.call(
                "follow",
                "POST",
                f"{self.drill.web}/api/v1/users/{target}/follow/",
                headers={"Idempotency-Key": key},
            )
            if response is not None and response.status_code < 300:
                self.drill.outcomes.follows.append((self.handle, target, True))
                return
            if (response is not None and not retryable(response)) or time.monotonic() > deadline:
                self.drill.outcomes.follows.append((self.handle, target, False))
                return
            self.retry_wait(response)

    def pay(self) -> None:
        """Checkout as a person does it: the plan, the hosted page, the card, the success page."""
        outcome: dict[str, Any] = {"paid": False, "ready": False, "session": ""}
        self.drill.outcomes.payments[self.handle] = outcome
        deadline = time.monotonic() + 60
        hosted = self.checkout_open(deadline)
        if not hosted:
            return
        outcome["session"] = hosted.rsplit("/", 1)[-1]
        success = self.checkout_pay(hosted, outcome, deadline)
        if success:
            outcome["ready"] = self.success_wait(success)

    def checkout_open(self, deadline: float) -> str:
        drill = self.drill
        while time.monotonic() < deadline:
            self.call("pay", "GET", f"{drill.web}/billing/pricing/")
            response = self.call(
                "pay",
                "POST",
                f"{drill.web}/billing/subscribe/",
                data={
                    "price_id": drill.price_id,
                    "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
                },
            )
            location = response.headers.get("Location", "") if response is not None else ""
            if response is not None and response.status_code == 303 and location.startswith(drill.standin):
                return location
            self.retry_wait(response)  # e.g. "Stripe is unreachable, try again" on the pricing page
        return ""

    def checkout_pay(self, hosted: str, outcome: dict[str, Any], deadline: float) -> str:
        drill = self.drill
        form = {
            "email": f"{self.handle}@example.com",
            "name": self.handle,
            "card_number": "4242424242424242",
            "exp": "12 / 34",
            "cvc": "123",
        }
        while time.monotonic() < deadline:
            page = self.call("pay", "GET", hosted, target="stripe")
            if page is None or page.status_code >= 500:
                time.sleep(1)
                continue
            if "checkout session is complete" in page.text:
                outcome["paid"] = True
                found = re.search(r"href='([^']+)'>Continue", page.text)
                return found.group(1).replace("&amp;", "&") if found else ""
            if self.victim and not drill.standin_killed.is_set():
                drill.victim_posting.set()  # the stand-in is killed while this POST is in flight
            response = self.call("pay", "POST", hosted, target="stripe", data=form)
            if response is not None and response.status_code == 303:
                outcome["paid"] = True
                return response.headers["Location"]
            time.sleep(1)  # a person waits, reloads the payment page and sees where it stands
        return ""

    def success_wait(self, success: str) -> bool:
        """The success page polls (with htmx in a browser); the user waits on it."""
        drill = self.drill
        session_id = urllib.parse.parse_qs(urllib.parse.urlsplit(success).query).get("session_id", [""])[0]
        attempt = 0
        poll_until = time.monotonic() + drill.options.settle + 30
        while time.monotonic() < poll_until and not drill.stop_polling.is_set():
            query = urllib.parse.urlencode({"session_id": session_id, "attempt": attempt})
            response = self.call("pay", "GET", f"{drill.web}/billing/success/?{query}")
            if response is not None and 'data-state="ready"' in response.text:
                return True
            attempt += 1
            found = re.search(r'data-poll-delay="(\d+)"', response.text if response is not None else "")
            time.sleep(min(5.0, float(found.group(1)) if found else 2.0))
        return False

    def run(self) -> None:
        if not self.login():
            self.drill.notes.append(f"{self.handle} could not sign in")
            return
        while not self.drill.stop_traffic.is_set():
            if self.pay_at is not None and self.drill.now() >= self.pay_at:
                self.pay_at = None
                self.pay()
                continue
            choice = self.rng.random()
            if choice < 0.6:
                self.browse()
            elif choice < 0.85:
                self.post()
            else:
                self.follow()
            time.sleep(self.rng.uniform(0.3, 1.2))
