"""DRF authentication with personal API keys: ``Authorization: Bearer <key>``.

Cheap on purpose: the format and checksum are checked without the database, the key is found
by its public id with one indexed query (joined to its owner), checked with SHA-256 and a
constant-time comparison. No password hasher runs on this path.

Once per request: the outcome (the owner and key, or the refusal) is kept on the Django request,
so whoever authenticates the same request again (``idempotency.principal`` before the view,
then the view) gets it without a second lookup or a second recorded use.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.request_info import client_ip
from integrations import keys
from integrations.models import ApiKey
from integrations.selectors import api_key_get_for_authentication
from integrations.services import api_key_record_use

# Where the outcome of authenticating a request is kept (on the Django ``HttpRequest``).
_OUTCOME = "_relay_api_key_authentication"


def _refuse(message: str, code: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message, code=code)


class APIKeyAuthentication(BaseAuthentication):
    """Authenticates ``Authorization: Bearer <API key>``; returns ``(owner, ApiKey)``.

    A request without Bearer credentials is left to the next class (the session). One with
    Bearer credentials is either a valid key or a 401 whose ``code`` says what is wrong:
    ``invalid_authorization_header``, ``malformed_api_key``, ``invalid_api_key_checksum``,
    ``wrong_environment_api_key``, ``invalid_api_key`` (unknown), ``revoked_api_key``,
    ``expired_api_key`` or ``inactive_user``.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        django_request = request._request
        if hasattr(django_request, _OUTCOME):
            outcome = getattr(django_request, _OUTCOME)
            if isinstance(outcome, exceptions.AuthenticationFailed):
                raise outcome
            return outcome  # what the first call returned
        try:
            result = self._authenticate(request)
        except exceptions.AuthenticationFailed as refusal:
            setattr(django_request, _OUTCOME, refusal)
            raise
        setattr(django_request, _OUTCOME, result)
        return result

    def _authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise _refuse(
                "Malformed Authorization header: send 'Authorization: Bearer <API key>'.",
                "invalid_authorization_header",
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise _refuse("The API key is malformed or truncated.", "malformed_api_key") from None
        try:
            parsed = keys.parse_token(token)
        except keys.KeyFormatError as error:
            raise _refuse(error.message, error.code) from None

        api_key = api_key_get_for_authentication(public_id=parsed.public_id)
        if api_key is None or not hmac.compare_digest(api_key.secret_hash, keys.hash_token(token)):
            raise _refuse("Unknown API key.", "invalid_api_key")
        now = timezone.now()
        if api_key.revoked_at is not None:
            raise _refuse("This API key was revoked.", "revoked_api_key")
        if api_key.grace_expires_at is not None and api_key.grace_expires_at <= now:
            raise _refuse("This API key was rotated and its grace period is over.", "revoked_api_key")
        if api_key.expires_at <= now:
            raise _refuse("This API key has expired.", "expired_api_key")
        if not api_key.user.is_active:
            raise _refuse("The account that owns this API key is deactivated.", "inactive_user")

        api_key_record_use(api_key=api_key, ip_address=client_ip(request._request), request=request._request)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
