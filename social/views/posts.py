"""Post pages: a post with its thread and reply box, edit, delete, report, and the in-place
like/repost/bookmark/pin actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.auth import request_user, request_user_or_none
from accounts.models import User
from billing.entitlements import entitlements_get_for_user
from billing.plans import FREE
from config.errors import ApplicationError, NotFoundError
from social import cards, selectors, services
from social.forms import PostEditForm, ReplyForm, ReportForm
from social.models import Post
from social.views._common import back, htmx_error, is_htmx, not_found, post_url, viewer


def _reply(request: HttpRequest, post: Post, form: ReplyForm) -> HttpResponse | int:
    """Publishes the reply box's reply: a redirect to it, or the status of the page to show."""
    if not form.is_valid():
        return 400
    try:
        reply = services.post_create(
            author=request_user(request),
            text=form.cleaned_data["text"],
            visibility=form.cleaned_data["visibility"] or None,
            reply_to_id=post.pk,
        )
    except ApplicationError as exc:
        exc.add_to_form(form)
        return exc.status_code
    return redirect(f"{post_url(post.pk)}#post-{reply.pk}")


def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    """A post with the thread above it and the replies below, and a reply box."""
    me = viewer(request)
    try:
        post = selectors.post_get_for_user(user=me, post_id=post_id)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    limits = entitlements_get_for_user(user=me) if isinstance(me, User) else FREE
    form = ReplyForm(initial={"visibility": services.reply_visibility_default(parent=post)}, limits=limits)
    status = 200
    if request.method == "POST":
        if request_user_or_none(request) is None:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        form = ReplyForm(request.POST, limits=limits)
        outcome = _reply(request, post, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        status = outcome
    context = {
        "post": selectors.post_get_shown(viewer=me, post_id=post.pk),
        "ancestors": selectors.post_list_ancestors(viewer=me, post=post),
        "thread": selectors.post_list_thread(viewer=me, post=post),
        "form": form,
        "edits": selectors.post_edit_list(viewer=me, post_id=post.pk)[:20] if post.edited_at else [],
    }
    return render(request, "social/post_detail.html", context, status=status)


def _actions(request: HttpRequest, post_id: int) -> HttpResponse:
    """The like/repost/bookmark bar of one post, for htmx to swap in, or a redirect back."""
    if is_htmx(request):
        row = selectors.post_get_shown(viewer=viewer(request), post_id=post_id)
        return HttpResponse(cards.post_actions_render(request, row))
    return back(request, post_url(post_id))


Toggle = Callable[..., Any]


def _toggle(on: Toggle, off: Toggle, flag: str) -> Callable[[HttpRequest, int], HttpResponse]:
    """An in-place action: ``on`` when the post's ``flag`` is false, else ``off``."""

    @login_required
    @require_POST
    def view(request: HttpRequest, post_id: int) -> HttpResponse:
        user = request_user(request)
        try:
            row = selectors.post_get_shown(viewer=user, post_id=post_id)
            (off if row[flag] else on)(user=user, post_id=post_id)
        except ApplicationError as exc:
            if is_htmx(request):
                return htmx_error(exc)
            if isinstance(exc, NotFoundError):
                raise not_found(exc) from exc
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
        services.post_delete(user=request_user(request), post_id=post_id)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return back(request, post_url(post_id))
    messages.success(request, "Post deleted.")
    return redirect("social:home")


@login_required
def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    user = request_user(request)
    try:
        post = selectors.post_get_for_user(user=user, post_id=post_id)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    if post.author_id != user.pk:
        raise Http404("Not your post.")
    limits = entitlements_get_for_user(user=user)
    form = PostEditForm(initial={"text": post.text, "content_warning": post.content_warning}, limits=limits)
    status = 200
    if request.method == "POST":
        form = PostEditForm(request.POST, limits=limits)
        status = 400
        if form.is_valid():
            try:
                services.post_edit(
                    user=user,
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
    return render(request, "social/post_edit.html", {"form": form, "post": post}, status=status)


@login_required
def report(request: HttpRequest, post_id: int | None = None, handle: str | None = None) -> HttpResponse:
    """Report a post/reply (``post_id``) or a user (``handle``)."""
    user = request_user(request)
    try:
        post = selectors.post_get_for_user(user=user, post_id=post_id) if post_id else None
        target = post.author if post else selectors.user_get_visible(viewer=user, handle=handle or "")
    except NotFoundError as exc:
        raise not_found(exc) from exc
    form = ReportForm()
    status = 200
    if request.method == "POST":
        form = ReportForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.report_create(
                    reporter=user,
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
                if post:
                    return redirect("social:post", post_id=post.pk)
                return redirect("social:profile", handle=target.handle)
    return render(
        request, "social/report.html", {"form": form, "post": post, "target": target}, status=status
    )
