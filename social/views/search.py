"""The search page: posts, people or hashtags."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from social import presenters, selectors
from social.forms import SearchForm
from social.views._common import is_htmx, page_of, viewer


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
    if not (form.is_valid() and form.cleaned_data["q"].strip()):
        status = 400 if form.is_bound and not form.is_valid() else 200
        return render(request, "social/search.html", context, status=status)
    query = form.cleaned_data["q"].strip()
    kind = form.cleaned_data.get("type") or "posts"
    context["kind"] = kind
    me = viewer(request)
    if kind == "users":
        context["people"], context["next_url"] = page_of(
            request,
            selectors.user_list_search(viewer=me, query=query),
            present=presenters.user_search_rows_present,
            ordering="handle",
        )
    elif kind == "tags":
        context["tags"] = presenters.hashtag_rows_present(
            selectors.hashtag_list_search(viewer=me, query=query)[:50]
        )
    else:
        posts, context["next_url"] = page_of(request, selectors.post_list_search(viewer=me, query=query))
        context["items"] = presenters.feed_items_present(posts)
        if is_htmx(request) and request.GET.get("cursor"):
            return render(request, "social/_feed_page.html", context)
    return render(request, "social/search.html", context)
