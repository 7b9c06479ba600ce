"""API plumbing shared by every app: the error shape, pagination and the v1 router."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError, RateLimitedError


class DefaultCursorPagination(CursorPagination):
    """Stable pages for lists that grow: new rows never shift the next page."""

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering = "-created_at"


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
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (dotted paths for nested fields).",
    )


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape of the API, for the OpenAPI schema."""

    error = ApiErrorBodySerializer()


def api_error(description: str) -> OpenApiResponse:
    """An error response in the project's shape, for ``@extend_schema(responses=...)``."""
    return OpenApiResponse(response=ApiErrorSerializer, description=description)
