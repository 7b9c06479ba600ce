"""The strict Content-Security-Policy and the Permissions-Policy are sent on every page."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/billing/pricing/", "/explore/"])
def test_pages_send_a_strict_csp(client: Client, path: str) -> None:
    response = client.get(path)
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "'self'" in policy["form-action"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


def test_pages_switch_off_unused_browser_features(client: Client) -> None:
    header = client.get("/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in header
    assert "publickey-credentials-get=(self)" in header  # passkey sign-in keeps working


def test_only_the_docs_pages_allow_injected_styles(client: Client) -> None:
    policy = _directives(client.get("/api/redoc/")["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["script-src"] == ["'self'"]
