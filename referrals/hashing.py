"""Keyed hashes of IP addresses and device ids, and the codes' alphabet.

An IP address is never stored: only HMAC-SHA256 under a key derived from SECRET_KEY, so equal
addresses can be compared but not recovered (and a leaked table cannot be brute-forced over the
IPv4 space without the secret).
"""

from __future__ import annotations

import re
import secrets

from django.utils.crypto import salted_hmac

# No 0/O, 1/I/L: codes are read aloud and typed from screenshots.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE_STRIP = re.compile(r"[\s\-_]")


def ip_hash(ip: str | None) -> str:
    """The keyed hash of an IP address, or "" when there is none."""
    if not ip:
        return ""
    return salted_hmac("referrals.ip", ip.strip(), algorithm="sha256").hexdigest()


def device_hash(device_id: str | None) -> str:
    """The keyed hash of a device cookie's value, or "" when there is none."""
    if not device_id:
        return ""
    return salted_hmac("referrals.device", device_id[:128], algorithm="sha256").hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


def normalize_code(raw: str | None) -> str:
    """What a user typed, as stored: upper-case, without spaces or dashes."""
    return _CODE_STRIP.sub("", raw or "").upper()[:32]
