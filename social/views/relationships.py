"""Relationship actions (follow, block, mute, answer follow requests, remove a follower) and
the page listing blocked and muted people and pending requests."""

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
from social.views._common import back, htmx_error, is_htmx, not_found

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
        return _go(request, goto) if goto else _follow_button(request, other)

    return view


def _follow_toggle(request: HttpRequest, user: User, other: User) -> None:
    rel = selectors.relationship_get(viewer=user, other=other)
    if rel["following"] or rel["requested"]:
        services.follow_delete(follower=user, followee=other)
    else:
        services.follow_create(follower=user, followee=other)


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
        return
    form = MuteForm(request.POST)
    if not form.is_valid():
        raise ApplicationError(
            "Choose how long to mute them for.",
            fields={name: [str(error) for error in errors] for name, errors in form.errors.items()},
        )
    minutes = form.cleaned_data.get("duration_minutes")
    services.mute_create(muter=user, muted=other, duration=timedelta(minutes=minutes) if minutes else None)


def _accept(request: HttpRequest, user: User, other: User) -> None:
    services.follow_request_accept(owner=user, requester=other)


def _reject(request: HttpRequest, user: User, other: User) -> None:
    services.follow_request_reject(owner=user, requester=other)


def _remove_follower(request: HttpRequest, user: User, other: User) -> None:
    services.follower_remove(owner=user, follower=other)


user_follow = _relationship_action(_follow_toggle)
user_block = _relationship_action(_block_toggle)
user_mute = _relationship_action(_mute_toggle)
follow_request_accept = _relationship_action(_accept)
follow_request_reject = _relationship_action(_reject)
follower_remove = _relationship_action(_remove_follower)


@login_required
def relationships(request: HttpRequest) -> HttpResponse:
    """Settings: blocked and muted people, and pending follow requests (the newest 200 each)."""
    user = request_user(request)
    people = presenters.user_rows_present
    return render(
        request,
        "social/relationships.html",
        {
            "blocked": people(selectors.block_list(user=user).order_by("-created_at")[:200]),
            "muted": people(selectors.mute_list(user=user).order_by("-created_at")[:200]),
            "requests": people(selectors.follow_request_list(user=user).order_by("-created_at")[:200]),
        },
    )
