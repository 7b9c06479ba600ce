"""Sealing a short-lived secret before it is stored server-side (a session, a cache entry).

The session store (PostgreSQL and Redis) is not a place for a secret in clear: whoever reads a
dump or a backup would have it. ``seal`` encrypts and authenticates a value with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key derived from ``SECRET_KEY`` and a
purpose, so a value sealed for one purpose cannot be opened as another; ``SECRET_KEY_FALLBACKS``
still open values sealed before a key rotation. ``unseal`` refuses anything older than
``max_age`` seconds, forged or sealed for another purpose, by returning ``None``.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet(secret: str, purpose: str) -> Fernet:
    key = hashlib.sha256(f"relay.sealing:{purpose}:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _box(purpose: str) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(secret, purpose) for secret in secrets])


def seal(value: str, *, purpose: str) -> str:
    return _box(purpose).encrypt(value.encode()).decode("ascii")


def unseal(token: object, *, purpose: str, max_age: int) -> str | None:
    if not isinstance(token, str):
        return None
    try:
        return _box(purpose).decrypt(token.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError):
        return None
