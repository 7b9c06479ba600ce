"""Relationship actions (follow, block, mute, answer follow requests, remove a follower), the
follow-requests page and the page listing blocked and muted people.

Each action says what it did (a message: a toast for htmx, a notice on the next page
otherwise). A form in a list row sends ``then=row``: htmx then swaps the row out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.auth import request_user
from accounts.models import User
from config.errors import ApplicationError, NotFoundError
from social import presenters, selectors, services
from social.forms import MuteForm
from social.views._common import back, htmx_error, is_htmx, not_found, page_of, with_toasts

# An action returns None to show the follow button again, or where to go instead.
Action = Callable[[HttpRequest, User, User], str | None]


def _follow_button(request: HttpRequest, other: User) -> HttpResponse:
    if is_htmx(request):
        context = {
            "profile_user": other,
            "relationship": selectors.relationship_get(viewer=request_user(request), other=other),
        }
        return render(request, "social/_follow_button.html", context)
    fallback = reverse("social:profile", args=[other.handle])
    return back(request, fallback) if request.POST.get("next") else redirect(fallback)


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _relationship_action(action: Action) -> Callable[[HttpRequest, str], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, handle: str) -> HttpResponse:
        user = request_user(request)
        try:
            # Blocks or not: a blocked person must stay reachable to be unblocked.
            other = selectors.user_get_by_handle(handle=handle)
            goto = action(request, user, other)
        except ApplicationError as exc:
            if is_htmx(request):
                return htmx_error(exc)
            if isinstance(exc, NotFoundError):
                raise not_found(exc) from exc
            messages.error(request, exc.message)
            return back(request, reverse("social:relationships"))
        if goto:
            return _go(request, goto)
        if is_htmx(request) and request.POST.get("then") == "row":
            return with_toasts(request, HttpResponse(""))
        return with_toasts(request, _follow_button(request, other))

    return view


def _follow_toggle(request: HttpRequest, user: User, other: User) -> None:
    rel = selectors.relationship_get(viewer=user, other=other)
    if rel["following"] or rel["requested"]:
        services.follow_delete(follower=user, followee=other)
        done = "You unfollowed" if rel["following"] else "You withdrew your request to follow"
        messages.success(request, f"{done} @{other.handle}.")
        return
    result = services.follow_create(follower=user, followee=other)
    if result.status == "requested":
        messages.success(request, f"Request sent: @{other.handle} decides whether you may follow them.")
    else:
        messages.success(request, f"You follow @{other.handle}.")


def _block_toggle(request: HttpRequest, user: User, other: User) -> str | None:
    if selectors.relationship_get(viewer=user, other=other)["blocking"]:
        services.block_delete(blocker=user, blocked=other)
        messages.success(request, f"You unblocked @{other.handle}.")
        return None
    services.block_create(blocker=user, blocked=other)
    # Their profile is closed to you now (404): go where you can see, and undo, the block.
    messages.success(request, f"You blocked @{other.handle}. You can unblock them here.")
    return reverse("social:relationships")


def _mute_toggle(request: HttpRequest, user: User, other: User) -> None:
    if selectors.relationship_get(viewer=user, other=other)["muting"]:
        services.mute_delete(muter=user, muted=other)
        messages.success(request, f"You unmuted @{other.handle}.")
        return
    form = MuteForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            "Choose how long to mute them for.",
            fields={name: [str(error) for error in errors] for name, errors in form.errors.items()},
        )
    minutes = form.cleaned_data.get("duration_minutes")
    services.mute_create(muter=user, muted=other, duration=timedelta(minutes=minutes) if minutes else None)
    messages.success(request, f"You muted @{other.handle}. You can unmute them in Settings.")


def _accept(request: HttpRequest, user: User, other: User) -> None:
    services.follow_request_accept(owner=user, requester=other)
    messages.success(request, f"@{other.handle} follows you now.")


def _reject(request: HttpRequest, user: User, other: User) -> None:
    services.follow_request_reject(owner=user, requester=other)
    messages.success(request, f"You declined @{other.handle}'s request.")


def _remove_follower(request: HttpRequest, user: User, other: User) -> None:
    services.follower_remove(owner=user, follower=other)
    messages.success(request, f"@{other.handle} no longer follows you.")


user_follow = _relationship_action(_follow_toggle)
user_block = _relationship_action(_block_toggle)
user_mute = _relationship_action(_mute_toggle)
follow_request_accept = _relationship_action(_accept)
follow_request_reject = _relationship_action(_reject)
follower_remove = _relationship_action(_remove_follower)


@login_required
def follow_requests(request: HttpRequest) -> HttpResponse:
    """The people asking to follow the user's private account, newest first, to accept or decline."""
    rows, next_url = page_of(
        request,
        selectors.follow_request_list(user=request_user(request)),
        present=presenters.user_rows_present,
    )
    return render(request, "social/follow_requests.html", {"requests": rows, "next_url": next_url})


@login_required
def relationships(request: HttpRequest) -> HttpResponse:
    """Settings: blocked and muted people (the newest 200 each)."""
    user = request_user(request)
    people = presenters.user_rows_present
    return render(
        request,
        "social/relationships.html",
        {
            "blocked": people(selectors.block_list(user=user).order_by("-created_at")[:200]),
            "muted": people(selectors.mute_list(user=user).order_by("-created_at")[:200]),
        },
    )
