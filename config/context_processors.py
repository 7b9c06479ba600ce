from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    # BILLING_ENABLED: without billing (its URLs answer "not available") no page links to it.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "BILLING_ENABLED": settings.BILLING_ENABLED,
    }
