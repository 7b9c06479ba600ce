"""Pages for sign-in security: the security log, the signed-in sessions and ending them."""

from __future__ import annotations

from allauth.account.adapter import get_adapter as get_account_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.auth import request_user
from accounts.selectors.security import security_event_list, user_session_list_live
from accounts.services.security import user_session_end, user_sessions_end_others, user_sessions_purge_ended
from config.errors import NotFoundError

SECURITY_LOG_PAGE_SIZE = 25


@login_required
def security_log(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(security_event_list(user=request_user(request)), SECURITY_LOG_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/security_log.html", {"page": page, "events": page.object_list})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sessions_list(request: HttpRequest) -> HttpResponse:
    """``/accounts/sessions/`` in place of allauth's page (same template, same actions): GET lists
    the signed-in sessions in a constant number of queries (allauth's ``purge_and_list`` asks the
    session store once per session); POST signs out every other session."""
    user = request_user(request)
    if request.method == "POST":
        user_sessions_end_others(user=user, request=request)
        get_account_adapter().add_message(
            request, messages.INFO, "usersessions/messages/sessions_logged_out.txt"
        )
        return redirect("usersessions_list")
    user_sessions_purge_ended(user=user)
    sessions = list(user_session_list_live(user=user))
    context = {
        "sessions": sessions,
        "session_count": len(sessions),
        "show_last_seen_at": settings.USERSESSIONS_TRACK_ACTIVITY,
        "current_session_key": request.session.session_key,
    }
    return render(request, "usersessions/usersession_list.html", context)


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
