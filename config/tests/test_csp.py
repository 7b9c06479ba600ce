"""The Content-Security-Policy header (config.middleware.ContentSecurityPolicyMiddleware: the
settings' policy built once per process) is exactly django-csp's, and follows every rule by
which django-csp changes it per response."""

from __future__ import annotations

import pytest
from csp.constants import NONCE, SELF
from csp.utils import build_policy
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from accounts.tests.factories import UserFactory
from config.middleware import ContentSecurityPolicyMiddleware

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_and_api_answers_carry_django_csps_policy_each_time(client: Client) -> None:
    expected = _directives(build_policy())
    client.force_login(UserFactory())
    for path in ("/", "/explore/", "/api/v1/me/", "/explore/", "/api/v1/me/"):
        response = client.get(path)
        assert response.status_code == 200
        assert _directives(response["Content-Security-Policy"]) == expected
    assert "Content-Security-Policy-Report-Only" not in response


def test_a_view_that_updates_the_policy_gets_its_own_and_the_next_page_the_strict_one(client: Client) -> None:
    docs = _directives(client.get("/api/redoc/")["Content-Security-Policy"])
    assert "'unsafe-inline'" in docs["style-src"]
    page = _directives(client.get("/explore/")["Content-Security-Policy"])
    assert page["style-src"] == ["'self'"]
    assert _directives(client.get("/api/redoc/")["Content-Security-Policy"]) == docs


def test_a_changed_setting_changes_the_header(client: Client, settings) -> None:
    client.get("/explore/")  # the old policy built
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {"default-src": [SELF], "img-src": [SELF, "https://cdn.example"]}
    }
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF], "report-uri": "/r"}}
    response = client.get("/explore/")
    assert _directives(response["Content-Security-Policy"]) == {
        "default-src": ["'self'"],
        "img-src": ["'self'", "https://cdn.example"],
    }
    assert _directives(response["Content-Security-Policy-Report-Only"]) == {
        "default-src": ["'self'"],
        "report-uri": ["/r"],
    }


def test_excluded_prefixes_get_no_header(client: Client, settings) -> None:
    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "EXCLUDE_URL_PREFIXES": ["/explore"],
    }
    assert "Content-Security-Policy" not in client.get("/explore/")
    assert "Content-Security-Policy" in client.get("/")


def test_a_response_that_used_a_nonce_gets_it_in_its_policy_and_the_next_one_not(settings) -> None:
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    nonces: list[str] = []

    def view_using_a_nonce(request: HttpRequest) -> HttpResponse:
        nonces.append(str(request.csp_nonce))  # type: ignore[attr-defined]  # django-csp's
        return HttpResponse("<script nonce>")

    with_nonce = ContentSecurityPolicyMiddleware(view_using_a_nonce)(RequestFactory().get("/"))
    assert _directives(with_nonce["Content-Security-Policy"])["script-src"] == [
        "'self'",
        f"'nonce-{nonces[0]}'",
    ]
    without = ContentSecurityPolicyMiddleware(lambda request: HttpResponse("plain"))(
        RequestFactory().get("/")
    )
    assert _directives(without["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_a_nonce_asked_for_after_the_header_was_written_is_refused() -> None:
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    ContentSecurityPolicyMiddleware(lambda request: HttpResponse("plain"))(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]  # django-csp's
