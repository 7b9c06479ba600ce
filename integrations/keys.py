"""The API key format: how a key is made, recognised and checked offline.

A key reads ``relay_test_<public id>_<secret><checksum>``:

- ``relay`` (``settings.API_KEY_PREFIX``) and ``test``/``live`` (``settings.API_KEY_ENVIRONMENT``)
  make a leaked key recognisable to secret scanners and tell which environment it belongs to;
- the public id (10 base62 characters) finds the key's row through a unique index;
- the secret (32 base62 characters, about 190 bits from ``secrets``) is what makes it a key;
- the checksum (CRC32 of everything before it, 6 base62 characters) lets a scanner or this
  server reject a mistyped or made-up key without a database query.

Only the SHA-256 of the whole key is stored. SHA-256 is the right hash for a high-entropy random
secret: a slow password hasher would add tens of milliseconds to every request for no gain.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass

from django.conf import settings

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUBLIC_ID_LENGTH = 10
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
ENVIRONMENTS = ("live", "test")

_PUBLIC_ID_RE = re.compile(rf"^[0-9A-Za-z]{{{PUBLIC_ID_LENGTH}}}$")
_BODY_RE = re.compile(rf"^[0-9A-Za-z]{{{SECRET_LENGTH + CHECKSUM_LENGTH}}}$")


class KeyFormatError(Exception):
    """The text is not a well-formed key of this server. ``code`` says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ParsedKey:
    environment: str
    public_id: str
    token: str


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(text: str) -> str:
    """CRC32 of ``text`` in base62, always 6 characters (62**6 > 2**32)."""
    return _base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


def prefix(environment: str | None = None) -> str:
    return f"{settings.API_KEY_PREFIX}_{environment or settings.API_KEY_ENVIRONMENT}_"


def new_public_id() -> str:
    return _random_base62(PUBLIC_ID_LENGTH)


def make_token(*, public_id: str, environment: str | None = None) -> str:
    """A fresh key with this public id: shown to its owner once, never stored."""
    head = f"{prefix(environment)}{public_id}_{_random_base62(SECRET_LENGTH)}"
    return head + checksum(head)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def display_prefix(public_id: str) -> str:
    """What the interface shows to identify a key: enough to recognise it, nothing secret."""
    return f"{prefix()}{public_id}_…"


def parse_token(token: str) -> ParsedKey:
    """Checks the shape, the checksum and the environment of a key without touching the database.

    Raises KeyFormatError with code ``malformed_api_key`` (not a key of this product, or
    truncated), ``invalid_api_key_checksum`` (mistyped or made up) or
    ``wrong_environment_api_key`` (a live key sent to a test server or the other way round).
    """
    product = f"{settings.API_KEY_PREFIX}_"
    if not token.isascii() or not token.startswith(product):
        raise KeyFormatError(
            f"This is not a {settings.API_KEY_PREFIX} API key: keys start with '{prefix()}'.",
            code="malformed_api_key",
        )
    environment, _, rest = token[len(product) :].partition("_")
    public_id, _, body = rest.partition("_")
    if environment not in ENVIRONMENTS or not _PUBLIC_ID_RE.match(public_id) or not _BODY_RE.match(body):
        raise KeyFormatError("The API key is malformed or truncated.", code="malformed_api_key")
    head, given = token[:-CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
    if not secrets.compare_digest(checksum(head), given):
        raise KeyFormatError(
            "The API key's checksum does not match: it was mistyped or altered.",
            code="invalid_api_key_checksum",
        )
    if environment != settings.API_KEY_ENVIRONMENT:
        raise KeyFormatError(
            f"This is a {environment} API key; this server accepts only {settings.API_KEY_ENVIRONMENT} keys.",
            code="wrong_environment_api_key",
        )
    return ParsedKey(environment=environment, public_id=public_id, token=token)
