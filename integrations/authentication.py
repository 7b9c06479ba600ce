"""DRF authentication with personal API keys: ``Authorization: Bearer <key>``.

Placeholder until the API-keys issue lands: a request that carries no Bearer credentials is
left to the next authentication class; one that does is refused, since no key can be valid yet.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request


class APIKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        raise exceptions.AuthenticationFailed("Invalid API key.", code="invalid_api_key")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
