"""Server-rendered social pages, with htmx for likes, follows and "load more".

Each view parses input, calls one service or selector, and renders. Service errors become form
errors or messages; htmx requests get the partial they swap in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from rest_framework.request import Request

from accounts.models import User
from config.api import DefaultCursorPagination, KeysetCursor
from config.errors import ApplicationError, NotFoundError
from social import selectors, services
from social.forms import MuteForm, PostEditForm, PostForm, ReplyForm, ReportForm, SearchForm

Rows = Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]


class _PagePagination(DefaultCursorPagination):
    page_size_query_param = None  # type: ignore[assignment]  # pages always show 20


class _HandlePagination(_PagePagination):
    ordering = "handle"


def _page(
    request: HttpRequest,
    qs: QuerySet[Any],
    transform: Rows = selectors.post_rows,
    ordering: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a selector's rows (cursor from ``?cursor=``) and the URL of the next one."""
    paginator = _HandlePagination() if ordering == "handle" else _PagePagination()
    try:
        page = paginator.paginate_queryset(qs, Request(request)) or []
    except Exception as exc:  # a tampered cursor is a 404, never a 500
        raise Http404("Invalid cursor.") from exc
    return transform(page), paginator.get_next_link()


def _items(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Posts as feed items, the shape the home timeline already has."""
    return [{"post": p, "reposted_by": None} for p in posts]


def _feed(request: HttpRequest, template: str, qs: QuerySet[Any], context: dict[str, Any]) -> HttpResponse:
    """Renders a page of a selector's posts as feed items."""
    items, next_url = _page(request, qs, transform=lambda page: _items(selectors.post_rows(page)))
    return _render_feed(request, template, context, items=items, next_url=next_url)


def _render_feed(
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
    if request.htmx and request.GET.get("cursor"):  # type: ignore[attr-defined]
        return render(request, "social/_feed_page.html", context)
    return render(request, template, context, status=status)


def _not_found(exc: NotFoundError) -> Http404:
    return Http404(exc.message)


# --- Feeds --------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the welcome page; signed-in users their home feed with a compose box."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    form = PostForm()
    status = 200
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES)
        if form.is_valid():
            alts = form.alt_text_list()
            images = [
                services.ImageUpload(file=f, alt_text=alts[i] if i < len(alts) else "")
                for i, f in enumerate(form.cleaned_data["images"])
            ]
            try:
                services.post_create(
                    author=request.user,  # type: ignore[arg-type]
                    text=form.cleaned_data["text"],
                    visibility=form.cleaned_data["visibility"],
                    content_warning=form.cleaned_data["content_warning"],
                    images=images,
                )
            except ApplicationError as exc:
                exc.add_to_form(form)
                status = exc.status_code
            else:
                messages.success(request, "Posted.")
                return redirect("social:home")
        else:
            status = 400
    try:
        cursor = KeysetCursor.parse(request.GET.get("cursor"))
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    page = selectors.home_feed_page(user=request.user, cursor=cursor)  # type: ignore[arg-type]
    next_url = f"?cursor={page.next.encode()}" if page.next else None
    return _render_feed(
        request, "social/home.html", {"form": form}, items=page.items(), next_url=next_url, status=status
    )


def explore(request: HttpRequest) -> HttpResponse:
    return _feed(request, "social/explore.html", selectors.explore_feed(viewer=request.user), {})


def tag(request: HttpRequest, tag: str) -> HttpResponse:
    return _feed(
        request, "social/tag.html", selectors.hashtag_feed(viewer=request.user, tag=tag), {"tag": tag.lower()}
    )


@login_required
def bookmarks(request: HttpRequest) -> HttpResponse:
    return _feed(request, "social/bookmarks.html", selectors.bookmarks_feed(user=request.user), {})  # type: ignore[arg-type]


def profile(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        owner = selectors.user_get_visible(viewer=request.user, handle=handle)
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    can_see = selectors.can_see_profile_posts(viewer=request.user, owner=owner)
    context = {
        "profile_user": owner,
        "can_see_posts": can_see,
        "relationship": selectors.relationship_for(viewer=request.user, other=owner),
        "pinned": selectors.pinned_post(viewer=request.user, owner=owner) if can_see else None,
        "is_me": request.user.is_authenticated and request.user.pk == owner.pk,
    }
    return _feed(
        request, "social/profile.html", selectors.profile_feed(viewer=request.user, owner=owner), context
    )


def _user_list(request: HttpRequest, handle: str, which: str) -> HttpResponse:
    try:
        owner = selectors.user_get_visible(viewer=request.user, handle=handle)
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    qs = (selectors.followers_list if which == "followers" else selectors.following_list)(
        viewer=request.user, owner=owner
    )
    rows, next_url = _page(request, qs, transform=_people)
    return render(
        request,
        "social/user_list.html",
        {"profile_user": owner, "which": which, "people": rows, "next_url": next_url},
    )


def followers(request: HttpRequest, handle: str) -> HttpResponse:
    return _user_list(request, handle, "followers")


def following(request: HttpRequest, handle: str) -> HttpResponse:
    return _user_list(request, handle, "following")


def _people(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "handle": r["handle"],
            "display_name": r.get("display_name") or r["handle"],
            "avatar_url": selectors.avatar_url(r.get("avatar")),
            "expires_at": r.get("expires_at"),
        }
        for r in rows
    ]


# --- Posts ----------------------------------------------------------------------------------------


def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    """A post with the thread above it and the replies below, and a reply box."""
    try:
        post = selectors.post_get_for_user(user=request.user, post_id=post_id)
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    form = ReplyForm()
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                reply = services.post_create(
                    author=request.user,  # type: ignore[arg-type]
                    text=form.cleaned_data["text"],
                    visibility=form.cleaned_data["visibility"],
                    reply_to_id=post.pk,
                )
            except ApplicationError as exc:
                exc.add_to_form(form)
                status = exc.status_code
            else:
                return redirect(f"{reverse('social:post', args=[post.pk])}#post-{reply.pk}")
        else:
            status = 400
    context = {
        "post": selectors.post_row(viewer=request.user, post_id=post.pk),
        "ancestors": selectors.ancestors_rows(viewer=request.user, post=post),
        "thread": selectors.thread_rows(viewer=request.user, post=post),
        "form": form,
        "edits": selectors.post_edit_history(viewer=request.user, post_id=post.pk)[:20]
        if post.edited_at
        else [],
    }
    return render(request, "social/post_detail.html", context, status=status)


def _back(request: HttpRequest, post_id: int | None = None) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("social:post", args=[post_id]) if post_id else "/")


def _actions(request: HttpRequest, post_id: int) -> HttpResponse:
    """The like/repost/bookmark bar of one post, for htmx to swap in, or a redirect back."""
    if request.htmx:  # type: ignore[attr-defined]
        row = selectors.post_row(viewer=request.user, post_id=post_id)
        return render(request, "social/_post_actions.html", {"p": row})
    return _back(request, post_id)


def _toggle(
    on: Callable[..., Any], off: Callable[..., Any], flag: str
) -> Callable[[HttpRequest, int], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, post_id: int) -> HttpResponse:
        try:
            row = selectors.post_row(viewer=request.user, post_id=post_id)
            (off if row[flag] else on)(user=request.user, post_id=post_id)
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        except ApplicationError as exc:
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponse(exc.message, status=exc.status_code)
            messages.error(request, exc.message)
        return _actions(request, post_id)

    return view


post_like = _toggle(services.like_create, services.like_delete, "liked")
post_repost = _toggle(services.repost_create, services.repost_delete, "reposted")
post_bookmark = _toggle(services.bookmark_create, services.bookmark_delete, "bookmarked")
post_pin = _toggle(services.post_pin, services.post_unpin, "is_pinned")


@login_required
@require_POST
def post_delete(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        services.post_delete(user=request.user, post_id=post_id)  # type: ignore[arg-type]
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(request, post_id)
    messages.success(request, "Post deleted.")
    return redirect("social:home")


@login_required
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        post = selectors.post_get_for_user(user=request.user, post_id=post_id)
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    if post.author_id != request.user.pk:
        raise Http404("Not your post.")
    form = PostEditForm(initial={"text": post.text, "content_warning": post.content_warning})
    status = 200
    if request.method == "POST":
        form = PostEditForm(request.POST)
        if form.is_valid():
            try:
                services.post_edit(
                    user=request.user,  # type: ignore[arg-type]
                    post_id=post.pk,
                    text=form.cleaned_data["text"],
                    content_warning=form.cleaned_data["content_warning"],
                )
            except ApplicationError as exc:
                exc.add_to_form(form)
                status = exc.status_code
            else:
                messages.success(request, "Post updated.")
                return redirect("social:post", post_id=post.pk)
        else:
            status = 400
    return render(request, "social/post_edit.html", {"form": form, "post": post}, status=status)


@login_required
def report(request: HttpRequest, post_id: int | None = None, handle: str | None = None) -> HttpResponse:
    """Report a post/reply (``post_id``) or a user (``handle``)."""
    try:
        post = selectors.post_get_for_user(user=request.user, post_id=post_id) if post_id else None
        target = post.author if post else selectors.user_get_visible(viewer=request.user, handle=handle or "")
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    form = ReportForm()
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                services.report_create(
                    reporter=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                    post_id=post.pk if post else None,
                    target_user=None if post else target,
                )
            except ApplicationError as exc:
                exc.add_to_form(form)
                status = exc.status_code
            else:
                messages.success(request, "Thank you. A moderator will look at your report.")
                return (
                    redirect("social:post", post_id=post.pk)
                    if post
                    else redirect("social:profile", handle=target.handle)
                )
        else:
            status = 400
    return render(
        request, "social/report.html", {"form": form, "post": post, "target": target}, status=status
    )


# --- Relationships ------------------------------------------------------------------------------


def _other(request: HttpRequest, handle: str) -> User:
    user = User.objects.filter(handle__iexact=handle, is_active=True).select_related("profile").first()
    if user is None:
        raise Http404("No such user.")
    return user


def _follow_button(request: HttpRequest, other: User) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        context = {
            "profile_user": other,
            "relationship": selectors.relationship_for(viewer=request.user, other=other),
        }
        return render(request, "social/_follow_button.html", context)
    return _back(request) if request.POST.get("next") else redirect("social:profile", handle=other.handle)


def _relationship_action(
    action: Callable[[HttpRequest, User], Any],
) -> Callable[[HttpRequest, str], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, handle: str) -> HttpResponse:
        other = _other(request, handle)
        try:
            action(request, other)
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        except ApplicationError as exc:
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponse(exc.message, status=exc.status_code)
            messages.error(request, exc.message)
        return _follow_button(request, other)

    return view


def _follow_toggle(request: HttpRequest, other: User) -> None:
    rel = selectors.relationship_for(viewer=request.user, other=other)
    if rel["following"] or rel["requested"]:
        services.follow_delete(follower=request.user, followee=other)  # type: ignore[arg-type]
    else:
        services.follow_create(follower=request.user, followee=other)  # type: ignore[arg-type]


def _block_toggle(request: HttpRequest, other: User) -> None:
    if selectors.relationship_for(viewer=request.user, other=other)["blocking"]:
        services.block_delete(blocker=request.user, blocked=other)  # type: ignore[arg-type]
    else:
        services.block_create(blocker=request.user, blocked=other)  # type: ignore[arg-type]


def _mute_toggle(request: HttpRequest, other: User) -> None:
    if selectors.relationship_for(viewer=request.user, other=other)["muting"]:
        services.mute_delete(muter=request.user, muted=other)  # type: ignore[arg-type]
        return
    form = MuteForm(request.POST)
    minutes = form.cleaned_data.get("duration_minutes") if form.is_valid() else None
    services.mute_create(
        muter=request.user,  # type: ignore[arg-type]
        muted=other,
        duration=timedelta(minutes=minutes) if minutes else None,
    )


def _accept(request: HttpRequest, other: User) -> None:
    services.follow_request_accept(owner=request.user, requester=other)  # type: ignore[arg-type]


def _reject(request: HttpRequest, other: User) -> None:
    services.follow_request_reject(owner=request.user, requester=other)  # type: ignore[arg-type]


def _remove_follower(request: HttpRequest, other: User) -> None:
    services.follower_remove(owner=request.user, follower=other)  # type: ignore[arg-type]


user_follow = _relationship_action(_follow_toggle)
user_block = _relationship_action(_block_toggle)
user_mute = _relationship_action(_mute_toggle)
follow_request_accept = _relationship_action(_accept)
follow_request_reject = _relationship_action(_reject)
follower_remove = _relationship_action(_remove_follower)


@login_required
def relationships(request: HttpRequest) -> HttpResponse:
    """Settings: blocked and muted people, and pending follow requests."""
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "social/relationships.html",
        {
            "blocked": _people(selectors.blocks_list(user=user).order_by("-created_at")[:200]),
            "muted": _people(selectors.mutes_list(user=user).order_by("-created_at")[:200]),
            "requests": _people(selectors.follow_requests_list(user=user).order_by("-created_at")[:200]),
        },
    )


# --- Notifications ------------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    rows, next_url = _page(
        request, selectors.notifications_list(user=user), transform=selectors.notification_dicts
    )
    context = {
        "notifications": rows,
        "next_url": next_url,
        "unread": selectors.notifications_unread_count(user=user),
    }
    if request.htmx and request.GET.get("cursor"):  # type: ignore[attr-defined]
        return render(request, "social/_notifications_page.html", context)
    return render(request, "social/notifications.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        services.notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    except NotFoundError as exc:
        raise _not_found(exc) from exc
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse("")
    return redirect("social:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(user=request.user)  # type: ignore[arg-type]
    return redirect("social:notifications")


# --- Search -----------------------------------------------------------------------------------------


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {
        "form": form,
        "items": [],
        "people": [],
        "tags": [],
        "next_url": None,
        "kind": "posts",
    }
    if form.is_valid() and form.cleaned_data["q"].strip():
        query = form.cleaned_data["q"].strip()
        kind = form.cleaned_data.get("type") or "posts"
        context["kind"] = kind
        if kind == "users":
            rows, context["next_url"] = _page(
                request,
                selectors.search_users(viewer=request.user, query=query),
                transform=_people,
                ordering="handle",
            )
            context["people"] = rows
        elif kind == "tags":
            context["tags"] = list(selectors.search_hashtags(query=query)[:50])
        else:
            rows, context["next_url"] = _page(
                request, selectors.search_posts(viewer=request.user, query=query)
            )
            context["items"] = _items(rows)
            if request.htmx and request.GET.get("cursor"):  # type: ignore[attr-defined]
                return render(request, "social/_feed_page.html", context)
    return render(
        request, "social/search.html", context, status=400 if form.is_bound and not form.is_valid() else 200
    )
