"""OpenAPI: the API-key security scheme and each operation's required scope.

``ScopedAutoSchema`` (settings ``DEFAULT_SCHEMA_CLASS``) adds to every operation:
- ``x-required-scopes``: the scope an API key needs for it (empty when keys are refused);
- a line in its description saying the same in words;
- the error responses every endpoint can give in the project's error shape: 400 (malformed
  input, e.g. a NUL in the address: ``config.guards``), 401, 403, 429, 503 (the database
  dropped the connection: ``config.faults``); 404 where the path names an object or the list is
  paginated (a tampered cursor); 413 and 415 where the operation takes a body.

It also gives every request text field that DRF trims and refuses when blank a ``pattern``
saying "holds a character that is not whitespace" (``not_only_whitespace()``): ``minLength: 1``
alone admits ``"\\u000b"``, which DRF strips to nothing and refuses.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import serializers

from config.api import ApiErrorSerializer
from config.scopes import RequiredScopes

ERROR_RESPONSES = {
    "400": "The input is not valid (see `fields`), or the request is malformed.",
    "401": "Not signed in, or the API key is unknown, malformed, expired or revoked.",
    "403": "Not allowed; for an API key, the key lacks the required scope.",
    "429": "Rate limited; see the Retry-After header.",
    "503": "The service is briefly unavailable; retry after the Retry-After header's seconds.",
}
NOT_FOUND = "No such object (or not visible to you)."
INVALID_CURSOR = "Invalid cursor: `cursor` is not one this list gave out."
BODY_RESPONSES = {
    "413": "The request body is over the upload limit.",
    "415": "The body's media type or charset is not supported.",
}


@functools.cache
def not_only_whitespace() -> str:
    """An ECMAScript (and Python) regex that finds a character ``str.strip()`` would keep.

    DRF trims with ``str.strip()``, which removes exactly the characters for which
    ``str.isspace()`` is true, so the class is built from that set over all of Unicode. Not
    ``\\s``: ECMAScript's differs (it adds U+FEFF and lacks U+001C-U+001F and U+0085). Written
    with ``\\uXXXX`` escapes (every such character is in the BMP) so the schema stays ASCII.
    """
    spaces = [code for code in range(0x110000) if chr(code).isspace()]
    ranges: list[tuple[int, int]] = []
    for code in spaces:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    parts = (f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges)
    return f"[^{''.join(parts)}]"


def _is_trimmed_non_blank_text(field: Any) -> bool:
    """A text field whose whitespace-only value the server strips to blank and refuses.

    E-mail and URL fields have a ``format`` (which already refuses whitespace) and choice
    fields are not ``CharField``s: they are left as they are (``_insert_field_validators``
    checks the format on the schema).
    """
    return (
        isinstance(field, serializers.CharField)
        and not isinstance(field, (serializers.EmailField, serializers.URLField))
        and field.trim_whitespace
        and not field.allow_blank
        and not field.read_only
    )


def needed_scope(view: Any, method: str) -> tuple[bool, str | None]:
    """(whether the view declares its scopes, the scope an API key needs for ``method``)."""
    declared = getattr(view, "required_scopes", None)
    if not isinstance(declared, RequiredScopes):
        return False, None
    return True, declared.for_method(method)


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.APIKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        definition = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106
        definition["description"] = (
            # The format this server issues (``relay_test_…`` outside live mode), not a fixed one.
            f"A personal API key (`{settings.API_KEY_PREFIX}_{settings.API_KEY_ENVIRONMENT}_…`), "
            "made on the API keys settings page. "
            "Each operation lists the scope it needs in `x-required-scopes`."
        )
        return definition

    def get_security_requirement(self, auto_schema: AutoSchema) -> dict[str, list[str]] | None:  # type: ignore[override]  # None drops the scheme; the stub says dict only
        _, scope = needed_scope(auto_schema.view, auto_schema.method)
        # Operations that refuse keys do not list the key scheme at all.
        return {self.name: []} if scope is not None else None


class SessionScheme(OpenApiAuthenticationExtension):
    """drf-spectacular's ``cookieAuth`` for DRF's session authentication, for the project's
    subclass of it (``config.api.authentication``): the schema names the same scheme."""

    target_class = "config.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


class ScopedAutoSchema(AutoSchema):
    # The direction ("request" or "response") of the serializer being mapped: drf-spectacular
    # does not pass it to ``_insert_field_validators``, and the whitespace rule is for input only
    # (output text may be anything the presenters return).
    _direction: str | None = None

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        outer, self._direction = self._direction, direction
        try:
            return super()._map_basic_serializer(serializer, direction)
        finally:
            self._direction = outer

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        outer, self._direction = self._direction, direction
        try:
            return super()._map_serializer_field(field, direction, bypass_extensions)
        finally:
            self._direction = outer

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if self._direction != "request" or not _is_trimmed_non_blank_text(field):
            return
        if schema.get("type") != "string" or "format" in schema or "enum" in schema:
            return  # an override to another type, or a format/enum that already says more
        rule = not_only_whitespace()
        own = schema.pop("pattern", None)
        if own is None:
            schema["pattern"] = rule
        else:
            # A RegexField keeps its own pattern: both must hold, and OpenAPI has one `pattern`.
            schema["allOf"] = [{"pattern": own}, {"pattern": rule}]

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        _, scope = needed_scope(self.view, self.method)
        operation["x-required-scopes"] = [scope] if scope else []
        line = (
            f"**API key scope:** `{scope}`."
            if scope
            else "**API keys:** not accepted; sign in with a session."
        )
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{line}" if description else line
        self._add_error_responses(operation)
        return operation

    def _add_error_responses(self, operation: dict[str, Any]) -> None:
        component = self.resolve_serializer(ApiErrorSerializer, "response")
        responses = operation.setdefault("responses", {})
        errors = dict(ERROR_RESPONSES)
        if "{" in self.path:
            errors["404"] = NOT_FOUND
        elif self._is_list_view() and self._get_paginator() is not None:
            errors["404"] = INVALID_CURSOR
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(BODY_RESPONSES)
        for status_code, description in errors.items():
            responses.setdefault(
                status_code,
                {"description": description, "content": {"application/json": {"schema": component.ref}}},
            )
