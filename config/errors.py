"""The one base class for domain errors.

Services raise these; the API's exception handler renders them as
``{"error": {"code", "message", "fields"}}`` and pages show ``message`` to the user.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A rule of the product was broken by the caller's input (a 4xx, never a 500)."""

    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}
        self.extra = extra or {}

    def add_to_form(self, form: Any) -> None:
        """Shows the error on a page's form: each field's messages on that field (on top of the
        form when it has no such field), or the message on top when it names no field."""
        for field, messages in self.fields.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        if not self.fields:
            form.add_error(None, self.message)


class NotFoundError(ApplicationError):
    status_code = 404
    code = "not_found"


class PermissionDeniedError(ApplicationError):
    status_code = 403
    code = "permission_denied"


class ConflictError(ApplicationError):
    status_code = 409
    code = "conflict"


class RateLimitedError(ApplicationError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
