"""HTTP pieces shared by the settings pages and the API (neither imports the other)."""

from __future__ import annotations

import json

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from accounts.models import User
from accounts.services.account import account_export


def end_current_session(request: HttpRequest) -> None:
    """Signs the deleted user out of this request's session.

    Not ``logout()``: its signal would write a "signed out" line to the security log of a
    user who no longer exists.
    """
    request.session.flush()
    request.user = AnonymousUser()


def export_response(*, user: User, request: HttpRequest) -> HttpResponse:
    """The export as a JSON file download (shared by the API and the settings page)."""
    data = account_export(user=user, request=request)
    stamp = data["exported_at"][:10]
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="relay-export-{user.handle}-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response
