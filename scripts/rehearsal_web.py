"""The production rehearsal's web side (``scripts/rehearse_production.py``): the *edge* (a TLS
proxy with a throwaway certificate, like Railway's: it terminates HTTPS, appends the client to
``X-Forwarded-For`` and sets ``X-Forwarded-Proto: https``), a person's browser through it, the
pages' forms, and the checks and waits of the run's steps."""

from __future__ import annotations

import datetime
import html
import html.parser
import http.client
import http.server
import ipaddress
import re
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import requests

from production_shape.processes import ShapeError

T = TypeVar("T")


class RehearsalError(ShapeError):
    """A step's check failed: the message says what a user or operator would have seen."""


# --- The run's clock -----------------------------------------------------------------------------


class Clock:
    def __init__(self, budget: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + budget

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


# --- The edge: TLS in front of gunicorn, like Railway's proxy --------------------------------------


def certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (the edge's; trusted by this run only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Relay production rehearsal")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "edge.crt", folder / "edge.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}


class _EdgeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int] = ("127.0.0.1", 0)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's signature
        pass

    def forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers = {k: v for k, v in headers.items() if k.lower() not in {"x-forwarded-proto"}}
        client = self.client_address[0]
        earlier = self.headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{earlier}, {client}" if earlier else client
        headers["X-Forwarded-Proto"] = "https"
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except OSError:
            self.send_error(502)
            return
        finally:
            connection.close()
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = forward


class _EdgeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer (a poll given up on): nothing for the run to say


class Edge:
    def __init__(self, port: int, upstream_port: int, cert: Path, key: Path) -> None:
        handler = type("EdgeHandler", (_EdgeHandler,), {"upstream": ("127.0.0.1", upstream_port)})
        self.server = _EdgeServer(("127.0.0.1", port), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="edge", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


# --- Pages: forms and a browser-like client ---------------------------------------------------------


class _FormParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "fields": {},
            }
            self.forms.append(self.current)
        elif self.current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button", "image", "file"}:
                self.current["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(page)
    return parser.forms


def form_for(page: str, action: str, **fields: str) -> dict[str, str]:
    """The hidden/prefilled fields of the page's form posting to ``action`` (and having ``fields``'
    values, when given, to choose among several)."""
    for form in forms_of(page):
        path = urllib.parse.urlsplit(html.unescape(form["action"])).path
        if urllib.parse.unquote(path) == urllib.parse.unquote(action) and all(
            form["fields"].get(k) == v for k, v in fields.items()
        ):
            return dict(form["fields"])
    found = [form["action"] for form in forms_of(page)]
    raise RehearsalError(f"no form posting to {action} {fields or ''} on the page (forms: {found})")


class Browser:
    """A person's browser, through the edge: cookies (Secure ones too: it is HTTPS), the CSRF
    token from the form, Origin and Referer on every POST, redirects not followed by itself."""

    def __init__(self, base: str, ca: Path) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE & co. would override the edge's CA
        self.ca = str(ca)
        self.session.headers["User-Agent"] = "Mozilla/5.0 (rehearsal) Relay"
        self.last_url = base + "/"

    def get(self, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = urllib.parse.urljoin(self.base, path_or_url)
        response = self.session.get(url, allow_redirects=False, timeout=30, verify=self.ca, **kwargs)
        self.last_url = url
        return response

    def post(self, path: str, data: dict[str, str], *, multipart: bool = False) -> requests.Response:
        url = urllib.parse.urljoin(self.base, path)
        headers = {"Origin": self.base, "Referer": self.last_url}
        if multipart:
            files = {k: (None, v) for k, v in data.items()}
            return self.session.post(
                url, files=files, headers=headers, allow_redirects=False, timeout=60, verify=self.ca
            )
        return self.session.post(
            url, data=data, headers=headers, allow_redirects=False, timeout=60, verify=self.ca
        )


def expect(response: requests.Response, status: int, what: str) -> requests.Response:
    if response.status_code != status:
        where = response.headers.get("Location", "")
        body = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:400]
        raise RehearsalError(
            f"{what}: {response.request.method} {response.url} answered {response.status_code}"
            f"{' -> ' + where if where else ''}, expected {status}. {body}"
        )
    return response


# --- The rehearsal ---------------------------------------------------------------------------------


def wait_for(what: str, check: Callable[[], T | None], clock: Clock, timeout: float, every: float = 0.5) -> T:
    """Polls ``check`` until it returns something other than None (or raises past the timeout)."""
    until = time.monotonic() + min(timeout, clock.remaining())
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result is not None:
                return result
        except (ShapeError, requests.RequestException, OSError, psycopg.Error) as exc:
            last_error = exc
        if time.monotonic() >= until:
            detail = f" (last: {last_error})" if last_error else ""
            raise RehearsalError(f"{what}: not within {timeout:.0f} s{detail}")
        time.sleep(every)
