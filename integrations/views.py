"""The API keys settings page: list, create (the full key is shown once), rotate, revoke.

Creating and rotating a key need a recent re-authentication (allauth asks for the password and
replays the POST). A new key is kept in the session only until the next GET shows it, sealed (encrypted with a key
derived from SECRET_KEY, ``config.sealing``) so the session store never holds it in clear: the
POST answers with a redirect, so reloading the page never creates a second key
(post/redirect/get).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.auth import request_user
from config.errors import ApplicationError, NotFoundError
from config.sealing import seal, unseal
from integrations.forms import GRACE_CHOICES, ApiKeyCreateForm, ApiKeyRotateForm
from integrations.models import ApiKey
from integrations.selectors import api_key_get_for_user, api_key_list_for_user
from integrations.services import IssuedKey, api_key_issue, api_key_revoke, api_key_rotate

# Session key of the key just issued, until the page has shown it once.
NEW_KEY_SESSION_KEY = "integrations:new-api-key"
NEW_KEY_SEALING_PURPOSE = "integrations.new-api-key"
# The redirect follows at once; a key not shown within this many seconds is not shown at all
# (the user rotates it instead).
NEW_KEY_MAX_AGE = 600
# Revoked and expired keys stay listed, so the list grows without bound: it is paged, as the
# security log is.
API_KEYS_PAGE_SIZE = 25


def _remember_issued(request: HttpRequest, issued: IssuedKey) -> HttpResponse:
    request.session[NEW_KEY_SESSION_KEY] = {
        "id": issued.api_key.public_id,
        "sealed_token": seal(issued.token, purpose=NEW_KEY_SEALING_PURPOSE),
    }
    return redirect("integrations:api-keys")


def _take_issued(request: HttpRequest) -> IssuedKey | None:
    """The key issued by the previous POST, once: it leaves the session as it is shown."""
    stored = request.session.pop(NEW_KEY_SESSION_KEY, None)
    if not isinstance(stored, dict):
        return None
    token = unseal(stored.get("sealed_token"), purpose=NEW_KEY_SEALING_PURPOSE, max_age=NEW_KEY_MAX_AGE)
    if token is None:
        return None
    try:
        api_key = api_key_get_for_user(user=request_user(request), public_id=str(stored.get("id")))
    except NotFoundError:
        return None
    return IssuedKey(api_key=api_key, token=token)


def _render(request: HttpRequest, *, form: ApiKeyCreateForm | None = None, status: int = 200) -> HttpResponse:
    user = request_user(request)
    context = {
        "form": form or ApiKeyCreateForm(is_staff=user.is_staff),
        "grace_choices": GRACE_CHOICES,
        "page": (
            page := Paginator(api_key_list_for_user(user=user), API_KEYS_PAGE_SIZE).get_page(
                request.GET.get("page")
            )
        ),
        "api_keys": page.object_list,
        "issued": _take_issued(request) if request.method == "GET" else None,
    }
    return render(request, "integrations/api_keys.html", context, status=status)


def _own_key(request: HttpRequest, public_id: str) -> ApiKey:
    try:
        return api_key_get_for_user(user=request_user(request), public_id=public_id)
    except NotFoundError:
        raise Http404("No such API key.") from None


@never_cache  # Cache-Control: no-store: the page may hold a secret shown once
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@reauthentication_required(allow_get=True)
def api_keys_page(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method != "POST":
        return _render(request)
    form = ApiKeyCreateForm(request.POST, is_staff=user.is_staff)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    try:
        issued = api_key_issue(user=user, request=request, **form.cleaned_data)
    except ApplicationError as error:
        error.add_to_form(form)
        return _render(request, form=form, status=error.status_code)
    return _remember_issued(request, issued)


@never_cache
@login_required
@require_POST
@reauthentication_required
def api_key_rotate_page(request: HttpRequest, public_id: str) -> HttpResponse:
    api_key = _own_key(request, public_id)
    form = ApiKeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long the old key keeps working (0 to 24 hours).")
        return redirect("integrations:api-keys")
    try:
        issued = api_key_rotate(
            api_key=api_key, request=request, grace_hours=form.cleaned_data["grace_hours"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("integrations:api-keys")
    return _remember_issued(request, issued)


@login_required
@require_POST
def api_key_revoke_page(request: HttpRequest, public_id: str) -> HttpResponse:
    api_key = _own_key(request, public_id)
    api_key_revoke(api_key=api_key, actor=request_user(request), request=request)
    messages.success(request, f"The key “{api_key.name}” was revoked. It no longer works.")
    return redirect("integrations:api-keys")
