"""The notifications page, the navigation's unread badge and marking notifications read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.auth import request_user, request_user_or_none
from config.errors import NotFoundError
from social import presenters, selectors, services
from social.views._common import is_htmx, not_found, page_of


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    rows, next_url = page_of(
        request, selectors.notification_list(user=user), present=presenters.notification_rows_present
    )
    context = {
        "notifications": rows,
        "next_url": next_url,
        "unread": selectors.notification_unread_count(user=user),
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "social/_notifications_page.html", context)
    return render(request, "social/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        services.notification_mark_read(user=request_user(request), notification_id=notification_id)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    if is_htmx(request):
        return HttpResponse("")
    return redirect("social:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(user=request_user(request))
    return redirect("social:notifications")


def notification_badge(request: HttpRequest) -> HttpResponse:
    """The navigation's unread count, which htmx polls: a fragment, or 204 (nothing to swap)
    once the session has ended, so the badge never swaps in a sign-in page."""
    user = request_user_or_none(request)
    if user is None:
        return HttpResponse(status=204)
    unread = selectors.notification_unread_count(user=user)
    response = render(request, "social/_notification_badge.html", {"unread": unread})
    response["Cache-Control"] = "no-store"
    return response
