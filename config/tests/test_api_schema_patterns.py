"""The schema's text rules match what the server accepts: whitespace-only and over-long input."""

from __future__ import annotations

import re
import sys

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from config.api.schema import ScopedAutoSchema

SPACES = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
# U+200B, U+FEFF and U+180E look blank but Python keeps them (ECMAScript's \\s has U+FEFF).
NOT_SPACES = ["a", "\u200b", "\ufeff", "\U0001f600", "_", "\u180e"]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _q_pattern(schema, path):
    (q,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "q"]
    return q


def test_trimmed_non_blank_request_text_has_the_not_only_whitespace_pattern(schema):
    checkout = schema["components"]["schemas"]["CheckoutSessionInputRequest"]["properties"]["price_id"]
    pattern = checkout["pattern"]
    assert pattern.isascii() and "\\s" not in pattern
    for path in ("/api/v1/search/posts/", "/api/v1/search/users/", "/api/v1/search/hashtags/"):
        q = _q_pattern(schema, path)
        assert q["schema"]["pattern"] == pattern
        assert q["schema"]["maxLength"] == 200
        assert q["description"]
    # Output text and blank-allowed input are left alone.
    assert "pattern" not in schema["components"]["schemas"]["PostOutput"]["properties"]["text"]
    assert (
        "pattern" not in schema["components"]["schemas"]["PatchedMeUpdateInputRequest"]["properties"]["bio"]
    )


@pytest.mark.django_db
def test_the_pattern_accepts_exactly_what_the_search_endpoint_accepts(schema, user_api_client):
    pattern = re.compile(_q_pattern(schema, "/api/v1/search/hashtags/")["schema"]["pattern"])
    for text in [*SPACES, " \t\u3000 ", *NOT_SPACES, " a "]:
        status = user_api_client.get("/api/v1/search/hashtags/", {"q": text}).status_code
        assert (status == 200) == bool(pattern.search(text)), (repr(text), status)
        assert status in (200, 400), (repr(text), status)


@pytest.mark.django_db
def test_whitespace_only_price_is_refused_as_the_schema_says(schema, user_api_client):
    pattern = re.compile(
        schema["components"]["schemas"]["CheckoutSessionInputRequest"]["properties"]["price_id"]["pattern"]
    )
    for text in ["\u000b", "\u001d", "\u0085", " "]:
        assert not pattern.search(text)
        response = user_api_client.post(
            "/api/v1/billing/checkout-session/", {"price_id": text}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["price_id"]


class _CodeInput(serializers.Serializer):
    code = serializers.RegexField(r"^[A-Z ]+\Z", max_length=10)


def test_a_field_with_its_own_pattern_keeps_both_in_all_of():
    mapped = _schema_for_request()._map_basic_serializer(_CodeInput(), "request")
    code = mapped["properties"]["code"]
    assert "pattern" not in code
    own, rule = (part["pattern"] for part in code["allOf"])
    assert own == "^[A-Z ]+$"
    assert not re.search(rule, "   ") and re.search(rule, " A ")


def _schema_for_request() -> ScopedAutoSchema:
    from drf_spectacular.plumbing import ComponentRegistry
    from rest_framework.views import APIView

    view = APIView()
    view.request = None
    auto = ScopedAutoSchema()
    auto.view = view
    auto.registry = ComponentRegistry()
    auto.method = "POST"
    return auto


@pytest.mark.django_db
def test_over_long_raw_text_is_refused_even_when_trimming_would_shorten_it(user_api_client):
    response = user_api_client.post(
        "/api/v1/billing/checkout-session/", {"price_id": " " * 300 + "a"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "255" in response.json()["error"]["fields"]["price_id"][0]
    response = user_api_client.get("/api/v1/search/hashtags/", {"q": " " * 300 + "a"})
    assert response.status_code == 400
    # A blank-allowed field too: 301 spaces are not an empty bio.
    response = user_api_client.patch("/api/v1/me/", {"bio": " " * 301}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["bio"]
