"""The two cookies referrals uses: the attribution cookie and a device id.

The attribution cookie is signed so it cannot be forged into something other than a code.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from referrals.hashing import device_hash, ip_hash, new_device_id

REFERRAL_COOKIE = "relay_ref"
DEVICE_COOKIE = "relay_did"
_SALT = "referrals.attribution"
_DEVICE_MAX_AGE = 2 * 365 * 24 * 3600


def referral_cookie_code(request: HttpRequest) -> str:
    """The code of the link the visitor came from, or "" (expired, absent or tampered with)."""
    max_age = settings.REFERRAL_COOKIE_DAYS * 24 * 3600
    value = request.get_signed_cookie(REFERRAL_COOKIE, default="", salt=_SALT, max_age=max_age)
    return str(value or "")


def referral_cookie_set(request: HttpRequest, response: HttpResponse, *, code: str) -> None:
    """Sets the attribution cookie; with first-touch attribution an existing one is kept."""
    if settings.REFERRAL_ATTRIBUTION != "last" and referral_cookie_code(request):
        return
    response.set_signed_cookie(
        REFERRAL_COOKIE,
        code,
        salt=_SALT,
        max_age=settings.REFERRAL_COOKIE_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=not (settings.DEBUG or settings.TESTING),
    )


def device_id(request: HttpRequest) -> str:
    return str(request.COOKIES.get(DEVICE_COOKIE, ""))[:128]


def device_cookie_ensure(request: HttpRequest, response: HttpResponse) -> None:
    """Gives the browser a random device id when it has none (compared only as a hash)."""
    if device_id(request):
        return
    response.set_cookie(
        DEVICE_COOKIE,
        new_device_id(),
        max_age=_DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=not (settings.DEBUG or settings.TESTING),
    )


def request_hashes(request: HttpRequest) -> tuple[str, str]:
    """(IP hash, device hash) of a request: all referrals ever keeps of where it came from."""
    from accounts.request_info import client_ip

    return ip_hash(client_ip(request)), device_hash(device_id(request))
