"""Who a keyed API write belongs to, resolved with the API's own authentication classes.

The middleware needs the principal before the view runs (a replay never reaches the view), so
it asks DRF's ``DEFAULT_AUTHENTICATION_CLASSES`` the question the view will ask, in the same
order: an API key's owner, else the session's user (with the session's CSRF check). The costly
one, the API key, memoises its outcome on the request (``integrations.authentication``), so the
view's own authentication afterwards is free and the key's use is recorded once.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.settings import api_settings


def principal_id(request: HttpRequest) -> int | None:
    """The authenticated user's id, or None: anonymous, or refused (a bad key, a failed CSRF
    check), which the view will answer itself. Leaves ``request.user`` as it found it unless a
    user was authenticated (then it is that user, as DRF would set it)."""
    before: Any = getattr(request, "user", None)
    # The stubs type the setting as its dotted paths; DRF has imported the classes by now.
    classes = cast("list[type[BaseAuthentication]]", api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    drf_request = Request(request, authenticators=[auth() for auth in classes])
    try:
        user = drf_request.user
    except exceptions.APIException:
        user = None
    if user is None or not user.is_authenticated:
        # DRF put an AnonymousUser on the request: the view's own authentication must see the
        # request as it came (the lazy session user), so it answers exactly as without us.
        if before is not None:
            request.user = before
        return None
    return int(user.pk)
