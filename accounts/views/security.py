"""Pages for sign-in security: the security log and ending one signed-in session."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.auth import request_user
from accounts.selectors.security import security_event_list
from accounts.services.security import user_session_end
from config.errors import NotFoundError

SECURITY_LOG_PAGE_SIZE = 25


@login_required
def security_log(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(security_event_list(user=request_user(request)), SECURITY_LOG_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/security_log.html", {"page": page, "events": page.object_list})


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        was_current = user_session_end(user=request_user(request), session_id=session_id, request=request)
    except NotFoundError as exc:
        messages.error(request, exc.message)
        return redirect("usersessions_list")
    if was_current:
        return HttpResponseRedirect("/")
    messages.success(request, "The session has been signed out.")
    return redirect("usersessions_list")
