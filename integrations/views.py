"""The API keys settings page: list, create (the full key is shown once), rotate, revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from config.errors import ApplicationError, NotFoundError
from integrations.forms import GRACE_CHOICES, ApiKeyCreateForm, ApiKeyRotateForm
from integrations.models import ApiKey
from integrations.selectors import api_key_get_for_user, api_key_list_for_user
from integrations.services import IssuedKey, api_key_issue, api_key_revoke, api_key_rotate


def _render(
    request: HttpRequest,
    *,
    form: ApiKeyCreateForm | None = None,
    issued: IssuedKey | None = None,
    status: int = 200,
) -> HttpResponse:
    user: Any = request.user
    context = {
        "form": form or ApiKeyCreateForm(is_staff=user.is_staff),
        "grace_choices": GRACE_CHOICES,
        "api_keys": api_key_list_for_user(user=user),
        "issued": issued,
    }
    response = render(request, "integrations/api_keys.html", context, status=status)
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the page holds a secret shown once
    return response


def _own_key(request: HttpRequest, public_id: str) -> ApiKey:
    user: Any = request.user
    try:
        return api_key_get_for_user(user=user, public_id=public_id)
    except NotFoundError:
        raise Http404("No such API key.") from None


@login_required
def api_keys_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
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
    return _render(request, issued=issued, status=201)


@login_required
@require_POST
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
    return _render(request, issued=issued, status=201)


@login_required
@require_POST
def api_key_revoke_page(request: HttpRequest, public_id: str) -> HttpResponse:
    user: Any = request.user
    api_key = _own_key(request, public_id)
    api_key_revoke(api_key=api_key, actor=user, request=request)
    messages.success(request, f"The key “{api_key.name}” was revoked. It no longer works.")
    return redirect("integrations:api-keys")
