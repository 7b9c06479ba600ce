"""Every list costs the same number of queries with 1 row and with 20 rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from social import services
from social.tests.factories import make_follow, make_post, make_user, png_upload

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def count_queries(client, url, params=None) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    body = response.json()
    rows = len(body["results"]) if "results" in body else len(body)
    return len(ctx.captured_queries), rows


def build(n: int):
    """A viewer following an author with ``n`` posts (each liked, reposted, with an image, a reply)."""
    viewer, author = make_user(), make_user()
    make_follow(viewer, author)
    make_follow(author, viewer)
    posts = []
    for i in range(n):
        images = [services.ImageUpload(png_upload(), "alt")] if i % 2 == 0 else []
        post = make_post(author, f"post number {i} #many #many{i} @{viewer.handle}", images=images)
        services.like_create(user=viewer, post_id=post.pk)
        services.bookmark_create(user=viewer, post_id=post.pk)
        make_post(viewer, f"reply {i}", reply_to_id=(posts[0] if posts else post).pk)
        extra = make_user()
        services.follow_create(follower=extra, followee=author)
        services.follow_create(follower=viewer, followee=extra)
        posts.append(post)
    services.post_pin(user=author, post_id=posts[0].pk)
    viewer.profile.is_private = True
    viewer.profile.save(update_fields=["is_private"])
    for i in range(n):
        services.block_create(blocker=viewer, blocked=make_user())
        services.mute_create(muter=viewer, muted=make_user())
        services.follow_create(follower=make_user(), followee=viewer)  # a pending request
        services.post_edit(user=author, post_id=posts[0].pk, text=f"{posts[0].text} (edit {i})")
    return viewer, author, posts


LISTS = [
    "/api/v1/feeds/home/",
    "/api/v1/feeds/explore/",
    "/api/v1/users/{author}/posts/",
    "/api/v1/users/{author}/followers/",
    "/api/v1/users/{viewer}/following/",
    "/api/v1/tags/many/posts/",
    "/api/v1/bookmarks/",
    "/api/v1/notifications/",
    "/api/v1/posts/{first}/replies/",
    "/api/v1/search/posts/?q=number",
    "/api/v1/search/users/?q=user",
    "/api/v1/search/hashtags/?q=ma",
    "/api/v1/follow-requests/",
    "/api/v1/blocks/",
    "/api/v1/mutes/",
    "/api/v1/posts/{first}/edits/",
]
# Every page that shows a list or repeated items (social/urls.py); "/posts/{first}/" shows the
# post's replies, "/@{viewer}/following/" the extra people the viewer follows.
PAGES = [
    "/",
    "/explore/",
    "/@{author}",
    "/tags/many/",
    "/notifications/",
    "/posts/{first}/",
    "/search/?q=number",
    "/search/?q=user&type=users",
    "/search/?q=ma&type=tags",
    "/follow-requests/",
    "/bookmarks/",
    "/@{author}/followers/",
    "/@{viewer}/following/",
    "/settings/relationships/",
]


def _urls(template_list, viewer, author, posts):
    return [t.format(author=author.handle, viewer=viewer.handle, first=posts[0].pk) for t in template_list]


def _api_costs(viewer, author, posts) -> dict[str, tuple[int, int]]:
    """Each API list's query count and row count, as the viewer sees it."""
    client = api(viewer)
    return {
        t: count_queries(client, url)
        for t, url in zip(LISTS, _urls(LISTS, viewer, author, posts), strict=True)
    }


def _page_costs(client, viewer, author, posts) -> dict[str, tuple[int, int]]:
    """Each page's query count and size in bytes, as the viewer sees it."""
    client.force_login(viewer)
    costs = {}
    for template, url in zip(PAGES, _urls(PAGES, viewer, author, posts), strict=True):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        costs[template] = (len(ctx.captured_queries), len(response.content))
    return costs


# Each test measures every list with one row, then builds the twenty-row world and measures
# again: the small world is measured alone (explore and search see everyone's posts), and the
# worlds are built twice in all rather than twice per list.
def test_every_api_list_costs_the_same_queries_with_1_row_and_with_20(settings):
    settings.SOCIAL_RATE_LIMITS = {"post": "1000/m", "reply": "1000/m", "follow": "1000/m"}
    one = _api_costs(*build(1))
    many = _api_costs(*build(20))
    too_few_rows = {t: (one[t][1], many[t][1]) for t in LISTS if not many[t][1] > one[t][1] >= 1}
    assert not too_few_rows, too_few_rows
    growing = {t: (one[t][0], many[t][0]) for t in LISTS if one[t][0] != many[t][0]}
    assert not growing, growing


def test_every_page_costs_the_same_queries_with_1_row_and_with_20(settings, client):
    settings.SOCIAL_RATE_LIMITS = {"post": "1000/m", "reply": "1000/m", "follow": "1000/m"}
    one = _page_costs(client, *build(1))
    many = _page_costs(client, *build(20))
    # The longer list is on the page.
    too_short = {t: (one[t][1], many[t][1]) for t in PAGES if not many[t][1] > one[t][1] + 500}
    assert not too_short, too_short
    growing = {t: (one[t][0], many[t][0]) for t in PAGES if one[t][0] != many[t][0]}
    assert not growing, growing
