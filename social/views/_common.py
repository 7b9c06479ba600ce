"""What the social pages share: one page of a list, the feed render, going back, htmx answers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.auth import request_user_or_none
from config.errors import ApplicationError, NotFoundError
from config.pagination import cursor_page
from social import presenters, selectors
from social.selectors import Viewer

Present = Callable[[Iterable[dict[str, Any]]], list[dict[str, Any]]]

# The htmx event a failed in-place action triggers (HX-Trigger); the page shows its message
# as a toast: {"level": "error", "message": "..."}.
TOAST_EVENT = "toast"


def viewer(request: HttpRequest) -> Viewer:
    return request_user_or_none(request)


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def not_found(exc: NotFoundError) -> Http404:
    return Http404(exc.message)


def page_of(
    request: HttpRequest,
    qs: Any,
    present: Present = selectors.post_list_from_rows,
    ordering: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a selector's rows (cursor from ``?cursor=``, newest first unless ``ordering``
    says otherwise) as posts unless ``present`` says otherwise, and the URL of the next one."""
    page = cursor_page(request, qs, present=present, ordering=ordering or "-created_at")
    return page.items, page.next_url


def render_feed(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    items: list[dict[str, Any]],
    next_url: str | None,
    status: int = 200,
) -> HttpResponse:
    """The whole page, or for htmx's "load more" only the next items and button."""
    context = {**context, "items": items, "next_url": next_url}
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "social/_feed_page.html", context)
    return render(request, template, context, status=status)


def feed(request: HttpRequest, template: str, qs: Any, context: dict[str, Any]) -> HttpResponse:
    """Renders a page of a selector's posts as feed items."""
    items, next_url = page_of(
        request, qs, present=lambda rows: presenters.feed_items_present(selectors.post_list_from_rows(rows))
    )
    return render_feed(request, template, context, items=items, next_url=next_url)


def back(request: HttpRequest, fallback: str = "/") -> HttpResponseRedirect:
    """To the page the form came from (``next``, same site only), else to ``fallback``."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


def post_url(post_id: int) -> str:
    return reverse("social:post", args=[post_id])


def htmx_error(exc: ApplicationError) -> HttpResponse:
    """A failed in-place action, for htmx: the status and message, and the toast event the
    page shows (htmx fires HX-Trigger events whatever the status; it swaps nothing on a 4xx)."""
    response = HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
    response["HX-Trigger"] = json.dumps({TOAST_EVENT: {"level": "error", "message": exc.message}})
    return response


def with_toasts(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """For htmx, the request's pending messages become the page's toast (HX-Trigger) instead
    of waiting for the next full page; other requests keep them for that page."""
    if not is_htmx(request):
        return response
    pending = list(messages.get_messages(request))  # reading them marks them shown
    if pending:
        level = "error" if any(m.level >= messages.ERROR for m in pending) else "success"
        toast = {"level": level, "message": " ".join(str(m.message) for m in pending)}
        response["HX-Trigger"] = json.dumps({TOAST_EVENT: toast})
    return response
