"""Feed pages: home (with the composer), explore, a hashtag, bookmarks, a profile and its
people lists."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from accounts.auth import request_user, request_user_or_none
from accounts.models import User
from billing.entitlements import Entitlements, entitlements_get_for_user
from config.api import KeysetCursor
from config.errors import ApplicationError, NotFoundError
from social import presenters, selectors, services
from social.feeds.home import home_feed_page
from social.feeds.profile import profile_header_get, profile_posts_page
from social.forms import PostForm
from social.views._common import feed, not_found, page_of, render_feed, viewer

# Errors the service names by a field the composer calls otherwise.
_COMPOSER_FIELDS = {"alt_text": "alt_texts"}
SUGGESTED_PEOPLE = 5
SUGGESTED_POSTS = 5


def _composer_error(form: PostForm, exc: ApplicationError) -> None:
    """Each message next to its field (an alt-text error by the descriptions, not on top)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for field, field_messages in exc.fields.items():
        name = _COMPOSER_FIELDS.get(field, field)
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


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
        _composer_error(form, exc)
        return exc.status_code
    return None


# The empty composer of each plan's limits, rendered once per process (its form widgets cost
# more than the 20 posts under it), with this placeholder where each page puts its CSRF token.
_COMPOSER_TEMPLATE = "social/_composer.html"
_CSRF_PLACEHOLDER = "composer-csrf-placeholder"
_empty_composers: dict[Entitlements, str] = {}


def _composer(request: HttpRequest, form: PostForm, limits: Entitlements, images_dropped: int) -> SafeString:
    """The composer's HTML. ``_composer.html`` draws only ``form``, ``limits``,
    ``images_dropped`` and the CSRF field, so the empty form of given limits is the same HTML on
    every page but for the token (not cached with DEBUG on, where templates reload)."""
    context = {"form": form, "limits": limits, "images_dropped": images_dropped}
    if form.is_bound or images_dropped or settings.DEBUG:
        return mark_safe(render_to_string(_COMPOSER_TEMPLATE, context, request))  # noqa: S308 - a template's output
    html = _empty_composers.get(limits)
    if html is None:
        html = render_to_string(_COMPOSER_TEMPLATE, {**context, "csrf_token": _CSRF_PLACEHOLDER}, request)
        _empty_composers[limits] = html
    return mark_safe(html.replace(_CSRF_PLACEHOLDER, get_token(request)))  # noqa: S308 - a template's output


def _suggestions(user: User | None) -> dict[str, object]:
    """People to follow and posts to read, for an empty home feed and Explore's side panel."""
    posts = selectors.post_list_explore(viewer=user)[:SUGGESTED_POSTS]
    return {
        "suggested_people": presenters.user_search_rows_present(
            selectors.user_list_suggested(viewer=user, limit=SUGGESTED_PEOPLE)
        ),
        "suggested_posts": presenters.feed_items_present(selectors.post_list_from_rows(posts)),
    }


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get the welcome page; signed-in users their home feed with a compose box."""
    user = request_user_or_none(request)
    if user is None:
        return render(request, "home.html")
    limits = entitlements_get_for_user(user=user)
    form = PostForm(limits=limits)
    status = 200
    images_dropped = 0
    if request.method == "POST":
        form = PostForm(request.POST, request.FILES, limits=limits)
        failed = _publish(request, form)
        if failed is None:
            messages.success(request, "Posted.")
            return redirect("social:home")
        status = failed
        # A browser cannot be handed files back: the page says so by the image field.
        images_dropped = len(request.FILES.getlist("images"))
    try:
        cursor = KeysetCursor.parse(request.GET.get("cursor"))
    except NotFoundError as exc:
        raise not_found(exc) from exc
    page = home_feed_page(user=user, cursor=cursor)
    next_url = f"?cursor={page.next.encode()}" if page.next else None
    items = page.items()
    context: dict[str, object] = {"composer": _composer(request, form, limits, images_dropped)}
    if not items and cursor is None:
        context.update(_suggestions(user))
    return render_feed(request, "social/home.html", context, items=items, next_url=next_url, status=status)


def explore(request: HttpRequest) -> HttpResponse:
    """Public posts, newest first, beside trending hashtags and (signed in) people to follow."""
    me = viewer(request)
    context: dict[str, object] = {"trending": selectors.hashtag_list_trending()}
    if me is not None and not request.GET.get("cursor"):
        context["suggested_people"] = presenters.user_search_rows_present(
            selectors.user_list_suggested(viewer=me, limit=SUGGESTED_PEOPLE)
        )
    return feed(request, "social/explore.html", selectors.post_list_explore(viewer=me), context)


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
    """A profile: its card, counts and relationship in one query, its posts and pinned post in
    another (``social.feeds.profile``), after the owner's row."""
    me = viewer(request)
    try:
        cursor = KeysetCursor.parse(request.GET.get("cursor"))
        owner = selectors.user_get_by_handle(handle=handle)
        header = profile_header_get(viewer=me, owner=owner)
        page = profile_posts_page(viewer=me, owner=owner, cursor=cursor) if header.can_see_posts else None
    except NotFoundError as exc:
        raise not_found(exc) from exc
    context = {
        "profile_user": owner,
        "can_see_posts": header.can_see_posts,
        "relationship": header.relationship,
        "pinned": page.pinned() if page else None,
        "is_me": me is not None and me.pk == owner.pk,
        "counts": header.counts,
    }
    next_url = f"?cursor={page.next.encode()}" if page and page.next else None
    return render_feed(
        request, "social/profile.html", context, items=page.items() if page else [], next_url=next_url
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
