"""Feed pages: home (with the composer), explore, a hashtag, bookmarks, a profile and its
people lists."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.auth import request_user, request_user_or_none
from config.api import KeysetCursor
from config.errors import ApplicationError, NotFoundError
from social import presenters, selectors, services
from social.feeds.home import home_feed_page
from social.forms import PostForm
from social.views._common import feed, not_found, page_of, render_feed, viewer


def _publish(request: HttpRequest, form: PostForm) -> int | None:
    """Publishes the composer's post; None when done, else the status of the page to show."""
    if not form.is_valid():
        return 400
    alts = form.alt_text_list()
    images = [
        services.ImageUpload(file=f, alt_text=alts[i] if i < len(alts) else "")
        for i, f in enumerate(form.cleaned_data["images"])
    ]
    try:
        services.post_create(
            author=request_user(request),
            text=form.cleaned_data["text"],
            visibility=form.cleaned_data["visibility"],
            content_warning=form.cleaned_data["content_warning"],
            images=images,
        )
    except ApplicationError as exc:
        exc.add_to_form(form)
        return exc.status_code
    return None


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the welcome page; signed-in users their home feed with a compose box."""
    user = request_user_or_none(request)
    if user is None:
        return render(request, "home.html")
    form = PostForm()
    status = 200
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES)
        failed = _publish(request, form)
        if failed is None:
            messages.success(request, "Posted.")
            return redirect("social:home")
        status = failed
    try:
        cursor = KeysetCursor.parse(request.GET.get("cursor"))
    except NotFoundError as exc:
        raise not_found(exc) from exc
    page = home_feed_page(user=user, cursor=cursor)
    next_url = f"?cursor={page.next.encode()}" if page.next else None
    return render_feed(
        request, "social/home.html", {"form": form}, items=page.items(), next_url=next_url, status=status
    )


def explore(request: HttpRequest) -> HttpResponse:
    return feed(request, "social/explore.html", selectors.post_list_explore(viewer=viewer(request)), {})


def tag(request: HttpRequest, tag: str) -> HttpResponse:
    try:
        posts = selectors.post_list_for_tag(viewer=viewer(request), tag=tag)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    return feed(request, "social/tag.html", posts, {"tag": tag.lower()})


@login_required
def bookmarks(request: HttpRequest) -> HttpResponse:
    return feed(
        request, "social/bookmarks.html", selectors.post_list_bookmarked(user=request_user(request)), {}
    )


def profile(request: HttpRequest, handle: str) -> HttpResponse:
    me = viewer(request)
    try:
        owner = selectors.user_get_visible(viewer=me, handle=handle)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    can_see = selectors.profile_posts_visible(viewer=me, owner=owner)
    context = {
        "profile_user": owner,
        "can_see_posts": can_see,
        "relationship": selectors.relationship_get(viewer=me, other=owner),
        "pinned": selectors.post_get_pinned(viewer=me, owner=owner) if can_see else None,
        "is_me": me is not None and me.pk == owner.pk,
    }
    return feed(
        request, "social/profile.html", selectors.post_list_for_profile(viewer=me, owner=owner), context
    )


def _user_list(request: HttpRequest, handle: str, which: str) -> HttpResponse:
    me = viewer(request)
    try:
        owner = selectors.user_get_visible(viewer=me, handle=handle)
    except NotFoundError as exc:
        raise not_found(exc) from exc
    select = selectors.follower_list if which == "followers" else selectors.following_list
    rows, next_url = page_of(request, select(viewer=me, owner=owner), present=presenters.user_rows_present)
    return render(
        request,
        "social/user_list.html",
        {"profile_user": owner, "which": which, "people": rows, "next_url": next_url},
    )


def followers(request: HttpRequest, handle: str) -> HttpResponse:
    return _user_list(request, handle, "followers")


def following(request: HttpRequest, handle: str) -> HttpResponse:
    return _user_list(request, handle, "following")
