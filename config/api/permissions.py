"""DRF permission classes for API-key scopes."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from config.scopes import RequiredScopes


def key_scopes(auth: Any) -> frozenset[str] | None:
    """The scopes of the API key behind a request, or None when it was not key-authenticated."""
    scopes = getattr(auth, "api_key_scopes", None)
    return frozenset(scopes) if scopes is not None else None


class HasRequiredScopes(BasePermission):
    """An API key may call a view only with the scope the view declares for the method.

    Requests signed in with a session pass: scopes limit keys, not people. A view that declares
    nothing for the method refuses every key (fail closed).
    """

    message = "This API key does not have the scope this operation needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        granted = key_scopes(request.auth)
        if granted is None:
            return True
        declared: RequiredScopes | None = getattr(view, "required_scopes", None)
        needed = declared.for_method(request.method or "GET") if declared is not None else None
        if needed is None:
            self.message = "API keys cannot be used for this operation."
            self.code = "scope_not_allowed"
            return False
        if needed not in granted:
            self.message = f"This API key needs the '{needed}' scope for this operation."
            self.code = "missing_scope"
            return False
        return True
