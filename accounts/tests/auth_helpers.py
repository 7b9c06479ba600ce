"""Helpers for driving allauth's pages in tests the way a browser would."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
STRONG_PASSWORD = "violet-tangerine-harbour-92"


def login(client: Client, email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> Any:
    """Posts the login form; ``extra`` are request META values (REMOTE_ADDR, HTTP_USER_AGENT)."""
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def reauthenticate(client: Client, password: str = DEFAULT_PASSWORD) -> Any:
    """Enters the password again, as allauth asks before sensitive changes (5 minutes' grace)."""
    response = client.post("/accounts/reauthenticate/", {"password": password})
    assert response.status_code == 302, "re-authentication failed"
    return response


def signup(client: Client, *, email: str, handle: str, password: str = STRONG_PASSWORD, **extra: Any) -> Any:
    data = {"email": email, "username": handle, "password1": password, "password2": password}
    return client.post("/accounts/signup/", data, **extra)


def last_mail_to(address: str) -> mail.EmailMessage:
    sent = [m for m in mail.outbox if address in m.to]
    assert sent, f"no e-mail to {address}; outbox: {[(m.to, m.subject) for m in mail.outbox]}"
    return sent[-1]


def link_in(message: mail.EmailMessage, path_fragment: str) -> str:
    """The path of the first link in the message whose URL contains ``path_fragment``."""
    body = str(message.body)
    for url in re.findall(r"https?://[^\s\"'<>]+", body):
        if path_fragment in url:
            return re.sub(r"^https?://[^/]+", "", url)
    raise AssertionError(f"no link with {path_fragment!r} in:\n{body}")


def errors_of(response: Any) -> str:
    """All form errors on a rendered page, as one string."""
    form = response.context["form"] if response.context and "form" in response.context else None
    return str(form.errors) if form is not None else ""
