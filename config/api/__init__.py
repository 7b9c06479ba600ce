"""API plumbing shared by every app: the error shape, pagination and the v1 router."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError, NotFoundError, RateLimitedError


class DefaultCursorPagination(CursorPagination):
    """Stable pages for lists that grow: new rows never shift the next page.

    ``page_size`` outside 1..``max_page_size`` (or not a number) is refused with 400, as the
    schema says (DRF silently falls back to the default or clamps); a tampered ``cursor`` is
    DRF's 404 "Invalid cursor.", documented on every paginated list by ``ScopedAutoSchema``.
    """

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "-created_at"

    def get_page_size(self, request: Request) -> int:
        return page_size_from(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size, default=self.page_size)
        return parameters


def page_size_from(request: Request, *, default: int, maximum: int, param: str = "page_size") -> int:
    """The ``?page_size=`` of a paginated list: ``default`` without one; 400 unless it is a
    whole number from 1 to ``maximum``. For hand-written pages (KeysetCursor) too."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise exceptions.ValidationError({param: [f"A whole number from 1 to {maximum}."]})
    return int(raw)


def _flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turns DRF's nested error detail into ``{"field" or "a.0.b": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                out.update(_flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ID = 2**63 - 1  # PostgreSQL's bigint


@dataclass(frozen=True)
class KeysetCursor:
    """A position in a list ordered newest first by ``(created_at, id)``, for hand-written page
    queries (the home feed): ``newer`` reads the page above it (the "previous" link).

    Opaque to clients, like DRF's cursors, and validated on the way in: a tampered cursor is a
    404 "Invalid cursor." as with DRF's ``CursorPagination``, never a database error.
    """

    created_at_us: int  # microseconds since the epoch: exact, unlike a float
    id: int
    newer: bool = False

    @classmethod
    def start(cls) -> KeysetCursor:
        """Above the newest row: the first page."""
        return cls.at(datetime.max.replace(tzinfo=UTC), _MAX_ID)

    @classmethod
    def at(cls, created_at: datetime, id: int, *, newer: bool = False) -> KeysetCursor:
        return cls(created_at_us=(created_at - _EPOCH) // timedelta(microseconds=1), id=id, newer=newer)

    @property
    def created_at(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.created_at_us)

    def encode(self) -> str:
        raw = f"{self.created_at_us}.{self.id}.{int(self.newer)}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, value: str | None) -> KeysetCursor | None:
        """The cursor of a ``?cursor=`` parameter, or None (the first page) without one."""
        return cls.decode(value) if value else None

    @classmethod
    def decode(cls, value: str) -> KeysetCursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
            at, row_id, newer = raw.split(".")
            cursor = cls(created_at_us=int(at), id=int(row_id), newer=newer == "1")
            if newer not in ("0", "1") or not 0 < cursor.id <= _MAX_ID:
                raise ValueError(value)
            cursor.created_at  # noqa: B018 - raises OverflowError outside datetime's range
        except (ValueError, UnicodeError, binascii.Error, OverflowError) as exc:
            raise NotFoundError("Invalid cursor.") from exc
        return cursor


def raw_page_response(
    request: Request, *, items_json: Sequence[str], next: KeysetCursor | None, previous: KeysetCursor | None
) -> HttpResponse:
    """The page DRF's ``CursorPagination`` would return (``{next, previous, results}``), around
    items that are already JSON (the home feed's items come out of PostgreSQL as JSON text)."""
    url = request.build_absolute_uri()

    def link(cursor: KeysetCursor | None) -> str:
        return json.dumps(replace_query_param(url, "cursor", cursor.encode()) if cursor else None)

    body = f'{{"next":{link(next)},"previous":{link(previous)},"results":[{",".join(items_json)}]}}'
    return HttpResponse(body, content_type="application/json")


def error_response(
    *,
    code: str,
    message: str,
    status_code: int,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields or {}}
    if extra:
        body.update(extra)
    return Response({"error": body}, status=status_code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Renders every error as ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError) else None
        return error_response(
            code=exc.code,
            message=exc.message,
            status_code=exc.status_code,
            fields=exc.fields,
            headers=headers,
            extra=exc.extra,
        )
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        non_field = fields.get("non_field_errors")
        message = non_field[0] if non_field and len(fields) == 1 else "The input is not valid."
        code, fields_out = "invalid", fields
    else:
        raw = exc.detail
        message = str(raw.get("detail", raw)) if isinstance(raw, dict) else str(raw)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        fields_out = {}
    extra = getattr(exc, "extra", None)
    body: dict[str, Any] = {"code": code, "message": message, "fields": fields_out}
    if isinstance(extra, dict):
        body.update(extra)
    response.data = {"error": body}
    return response


class ApiErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable error code.")
    message = serializers.CharField(help_text="A sentence for people.")
    # DRF's metaclass collects declared fields, so a field may be called "fields".
    fields = serializers.DictField(  # type: ignore[assignment]  # a field named "fields" shadows Serializer.fields
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested fields).",
    )


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape of the API, for the OpenAPI schema."""

    error = ApiErrorBodySerializer()


def api_error(description: str) -> OpenApiResponse:
    """An error response in the project's shape, for ``@extend_schema(responses=...)``."""
    return OpenApiResponse(response=ApiErrorSerializer, description=description)
