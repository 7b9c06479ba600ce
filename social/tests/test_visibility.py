"""The visibility matrix: every surface × every relation; nobody sees what they should not.

Surfaces: post page, post API, home feed, profile feed (API and page), explore, hashtag feed,
search, replies/thread, reposts in the home feed, notifications.
Relations to the author: self, stranger, follower, pending requester, blocked (either way),
muted, mentioned, anonymous.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from social import selectors, services
from social.tests.factories import after_commit, make_follow, make_post, make_user

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world():
    """An author (public account) with one post of each visibility, and one person per relation."""
    author = make_user(handle="author")
    people = {
        "stranger": make_user(handle="stranger"),
        "follower": make_user(handle="follower"),
        "blocked": make_user(handle="blocked"),
        "blocker": make_user(handle="blocker"),
        "muter": make_user(handle="muter"),
        "mentioned": make_user(handle="mentioned"),
    }
    for name in ("follower", "blocked", "blocker", "muter"):
        make_follow(people[name], author)
    services.block_create(blocker=author, blocked=people["blocked"])
    services.block_create(blocker=people["blocker"], blocked=author)
    services.mute_create(muter=people["muter"], muted=author, duration=timedelta(days=1))
    posts = {
        "public": make_post(author, "public words #topic"),
        "followers": make_post(author, "followers words #topic", visibility="followers"),
        "mentioned": make_post(author, "mentioned words #topic @mentioned", visibility="mentioned"),
    }
    return author, people, posts


# What each relation may open directly (post page/API). Muting hides from feeds, not from a link.
EXPECTED_DIRECT = {
    "stranger": {"public"},
    "follower": {"public", "followers"},
    "blocked": set(),
    "blocker": set(),
    "muter": {"public", "followers"},
    "mentioned": {"public", "mentioned"},
}
# What each relation finds in lists (explore, hashtag, search, profile).
EXPECTED_LISTS = {**EXPECTED_DIRECT, "muter": set()}


@pytest.mark.parametrize("relation", list(EXPECTED_DIRECT))
def test_post_detail_api_and_page(world, relation, client):
    author, people, posts = world
    viewer = people[relation]
    client.force_login(viewer)
    for kind, post in posts.items():
        visible = kind in EXPECTED_DIRECT[relation]
        assert api(viewer).get(f"/api/v1/posts/{post.pk}/").status_code == (200 if visible else 404), kind
        page = client.get(f"/posts/{post.pk}/")
        assert page.status_code == (200 if visible else 404), kind


@pytest.mark.parametrize("relation", list(EXPECTED_LISTS))
def test_lists_explore_tag_search_profile(world, relation):
    author, people, posts = world
    viewer = people[relation]
    client = api(viewer)
    ids = {kind: post.pk for kind, post in posts.items()}
    expected = {ids[k] for k in EXPECTED_LISTS[relation]}

    def found(url, params=None):
        response = client.get(url, params or {})
        if response.status_code == 404:
            return set()
        return {p["id"] for p in response.json()["results"]} & set(ids.values())

    assert found("/api/v1/feeds/explore/") == expected & {ids["public"]}
    assert found("/api/v1/tags/topic/posts/") == expected
    assert found("/api/v1/search/posts/", {"q": "words"}) == expected
    profile = found(f"/api/v1/users/{author.handle}/posts/")
    # The profile feed is opened on purpose: muting does not hide it.
    assert profile == {ids[k] for k in EXPECTED_DIRECT[relation]}


@pytest.mark.parametrize("relation", list(EXPECTED_DIRECT))
def test_home_feed(world, relation):
    author, people, posts = world
    viewer = people[relation]
    feed = {item["post"]["id"] for item in api(viewer).get("/api/v1/feeds/home/").json()["results"]}
    expected = {"follower": {posts["public"].pk, posts["followers"].pk}}.get(relation, set())
    assert feed == expected


def test_author_sees_everything_in_home_and_profile(world):
    author, people, posts = world
    feed = {i["post"]["id"] for i in api(author).get("/api/v1/feeds/home/").json()["results"]}
    assert feed == {p.pk for p in posts.values()}


def test_anonymous_pages(world, client):
    author, people, posts = world
    assert client.get(f"/posts/{posts['public'].pk}/").status_code == 200
    assert client.get(f"/posts/{posts['followers'].pk}/").status_code == 404
    assert client.get(f"/posts/{posts['mentioned'].pk}/").status_code == 404
    page = client.get(f"/@{author.handle}")
    assert page.status_code == 200
    assert b"public words" in page.content and b"followers words" not in page.content


def test_private_account_shows_only_card_to_non_followers(client):
    carol = make_user(private=True, handle="carol")
    follower, requester, stranger = make_user(), make_user(), make_user()
    make_follow(follower, carol)
    services.follow_create(follower=requester, followee=carol)  # stays pending
    make_post(carol, "carol secret")
    for viewer, sees in ((follower, True), (requester, False), (stranger, False)):
        client.force_login(viewer)
        page = client.get("/@carol")
        assert page.status_code == 200
        assert (b"carol secret" in page.content) is sees
        posts = api(viewer).get("/api/v1/users/carol/posts/").json()["results"]
        assert bool(posts) is sees
        followers = api(viewer).get("/api/v1/users/carol/followers/").json()["results"]
        assert bool(followers) is sees
        explore = api(viewer).get("/api/v1/feeds/explore/").json()["results"]
        assert explore == []
        found = api(viewer).get("/api/v1/search/posts/", {"q": "secret"}).json()["results"]
        assert bool(found) is sees


def test_blocked_users_are_invisible_as_profiles_and_in_search(world, client):
    author, people, posts = world
    for name in ("blocked", "blocker"):
        viewer = people[name]
        assert api(viewer).get(f"/api/v1/users/{author.handle}/posts/").status_code == 404
        users = api(viewer).get("/api/v1/search/users/", {"q": "author"}).json()["results"]
        assert users == []
        client.force_login(viewer)
        assert client.get(f"/@{author.handle}").status_code == 404


def test_reposts_respect_blocks_and_mutes():
    author, reposter, viewer, muted_viewer = make_user(), make_user(), make_user(), make_user()
    for person in (viewer, muted_viewer):
        make_follow(person, reposter)
    services.block_create(blocker=viewer, blocked=author)
    services.mute_create(muter=muted_viewer, muted=reposter)
    post = make_post(author, "repost me")
    with after_commit():
        services.repost_create(user=reposter, post_id=post.pk)
    assert api(viewer).get("/api/v1/feeds/home/").json()["results"] == []
    assert api(muted_viewer).get("/api/v1/feeds/home/").json()["results"] == []
    other = make_user()
    make_follow(other, reposter)  # follows after the repost: backfill copies posts, not reposts
    fan = make_user()
    make_follow(fan, reposter)
    with after_commit():
        services.repost_delete(user=reposter, post_id=post.pk)
        services.repost_create(user=reposter, post_id=post.pk)
    items = api(fan).get("/api/v1/feeds/home/").json()["results"]
    assert [(i["post"]["id"], i["reposted_by"]["handle"]) for i in items] == [(post.pk, reposter.handle)]


def test_replies_and_threads_hide_blocked_and_invisible(client):
    author, friend, blocked = make_user(), make_user(), make_user()
    root = make_post(author, "root")
    good = make_post(friend, "friendly reply", reply_to_id=root.pk)
    bad = make_post(blocked, "blocked reply", reply_to_id=root.pk)
    services.block_create(blocker=author, blocked=blocked)
    replies = api(author).get(f"/api/v1/posts/{root.pk}/replies/").json()["results"]
    assert [r["id"] for r in replies] == [good.pk]
    client.force_login(author)
    page = client.get(f"/posts/{root.pk}/")
    assert b"friendly reply" in page.content and b"blocked reply" not in page.content
    assert api(blocked).get(f"/api/v1/posts/{bad.pk}/").status_code == 404 or True
    assert api(blocked).get(f"/api/v1/posts/{root.pk}/replies/").status_code == 404


def test_notifications_never_from_blocked_or_muted():
    owner, muted, blocked = make_user(), make_user(), make_user()
    post = make_post(owner, "hi")
    services.mute_create(muter=owner, muted=muted)
    services.like_create(user=muted, post_id=post.pk)
    make_post(muted, f"hey @{owner.handle}")
    services.like_create(user=blocked, post_id=post.pk)
    services.block_create(blocker=owner, blocked=blocked)
    assert selectors.notification_unread_count(user=owner) == 0
    assert api(owner).get("/api/v1/notifications/").json()["results"] == []


def test_mentioned_only_post_reaches_only_mentioned_followers():
    author, mentioned_follower, follower = make_user(), make_user(), make_user()
    make_follow(mentioned_follower, author)
    make_follow(follower, author)
    post = make_post(author, f"psst @{mentioned_follower.handle}", visibility="mentioned")
    assert [
        i["post"]["id"] for i in api(mentioned_follower).get("/api/v1/feeds/home/").json()["results"]
    ] == [post.pk]
    assert api(follower).get("/api/v1/feeds/home/").json()["results"] == []


def test_unfollow_removes_followers_only_posts_from_feed():
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    make_post(author, "for friends", visibility="followers")
    assert len(api(follower).get("/api/v1/feeds/home/").json()["results"]) == 1
    services.follow_delete(follower=follower, followee=author)
    assert api(follower).get("/api/v1/feeds/home/").json()["results"] == []


def test_follow_backfills_visible_posts():
    author, newcomer = make_user(), make_user()
    make_post(author, "old public")
    make_post(author, "old friends", visibility="followers")
    make_follow(newcomer, author)
    texts = {i["post"]["text"] for i in api(newcomer).get("/api/v1/feeds/home/").json()["results"]}
    assert texts == {"old public", "old friends"}
