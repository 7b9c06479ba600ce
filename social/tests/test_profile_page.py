"""The profile page's two statements (social.feeds.profile): they answer what the ORM selectors
answer, for every relation and every kind of post, page after page, in a fixed number of
queries; and the page shows it."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import user_deactivate
from accounts.tests.factories import StaffUserFactory
from config.api import KeysetCursor
from config.errors import NotFoundError
from social import moderation, services
from social.feeds import profile as feed_profile
from social.tests.factories import after_commit, make_follow, make_post, make_user, png_upload
from social.tests.test_fanout import MAX_CACHED_STATEMENT_LENGTH
from social.tests.test_visibility import EXPECTED_DIRECT, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.django_db


def _parsed(rows):
    return [(pinned, post_id, at, json.loads(item)) for pinned, post_id, at, item in rows]


def _both(viewer, owner, cursor, limit):
    statement = feed_profile._profile_rows_postgres(
        viewer_id=None if viewer is None else viewer.pk, owner_id=owner.pk, cursor=cursor, limit=limit
    )
    reference = feed_profile._profile_rows_orm(viewer=viewer, owner=owner, cursor=cursor, limit=limit)
    return _parsed(statement), _parsed(reference)


def _mixed_posts(author, people) -> dict[str, object]:
    """Besides ``world``'s public, followers-only and mentioned-only posts: a reply, a repost
    by the author, a hidden and a deleted post, a content-warned one with images, one liked,
    reposted and bookmarked by the follower, and the pinned one."""
    other = make_user(handle="someone")
    theirs = make_post(other, "someone else's post")
    with after_commit():
        services.repost_create(user=author, post_id=theirs.pk)
    posts = {
        "reply": make_post(author, "a reply", reply_to_id=theirs.pk),
        "hidden": make_post(author, "hidden by staff"),
        "deleted": make_post(author, "deleted"),
        "pictured": make_post(
            author,
            "with pictures",
            content_warning="spoilers",
            images=[services.ImageUpload(png_upload(), "first"), services.ImageUpload(png_upload(), "")],
        ),
        "flagged": make_post(author, "liked and kept"),
        "pinned": make_post(author, "pinned followers-only", visibility="followers"),
    }
    moderation.moderation_hide_post(moderator=StaffUserFactory(), post=posts["hidden"])
    services.post_delete(user=author, post_id=posts["deleted"].pk)
    services.post_pin(user=author, post_id=posts["pinned"].pk)
    follower = people["follower"]
    services.like_create(user=follower, post_id=posts["flagged"].pk)
    services.bookmark_create(user=follower, post_id=posts["flagged"].pk)
    services.repost_create(user=follower, post_id=posts["flagged"].pk)
    services.mute_create(muter=people["stranger"], muted=author, duration=timedelta(seconds=-1))  # over
    return posts


def test_the_page_statement_and_the_orm_selectors_agree_for_every_relation(world):  # noqa: F811
    author, people, posts = world
    more = _mixed_posts(author, people)
    for viewer in [None, author, *people.values()]:
        statement, reference = _both(viewer, author, KeysetCursor.start(), 3)
        assert statement == reference, viewer
        # The next page from the last post of the first, and a cursor between two posts.
        if statement:
            _, post_id, at, _ = statement[-1]
            for cursor in (KeysetCursor(at, post_id), KeysetCursor(at + 1, 1)):
                statement, reference = _both(viewer, author, cursor, 20)
                assert statement == reference, (viewer, cursor)
    follower_page = _both(people["follower"], author, KeysetCursor.start(), 20)[0]
    shown = [post_id for pinned, post_id, _, _ in follower_page if not pinned]
    # Newest first; no reply, no repost, nothing hidden or deleted; the pinned post also in place.
    assert shown == [more[k].pk for k in ("pinned", "flagged", "pictured")] + [
        posts["followers"].pk,
        posts["public"].pk,
    ]
    assert [post_id for pinned, post_id, _, _ in follower_page if pinned] == [more["pinned"].pk]
    flagged = next(item for _, post_id, _, item in follower_page if post_id == more["flagged"].pk)
    assert flagged["post"]["liked"] and flagged["post"]["bookmarked"] and flagged["post"]["reposted"]


def test_a_private_accounts_posts_are_for_its_followers_only():
    owner = make_user(private=True, handle="private_owner")
    follower, requester, stranger = make_user(), make_user(), make_user()
    make_follow(follower, owner)
    services.follow_create(follower=requester, followee=owner)  # stays pending
    mentioned = make_user(handle="mentioned_one")
    post = make_post(owner, "for followers", visibility="followers")
    make_post(owner, "hello @mentioned_one", visibility="mentioned")
    services.post_pin(user=owner, post_id=post.pk)
    for viewer in (None, owner, follower, requester, stranger, mentioned):
        statement, reference = _both(viewer, owner, KeysetCursor.start(), 20)
        assert statement == reference, viewer
        assert bool(statement) is (viewer in (owner, follower)), viewer


def test_a_suspended_owner_has_no_posts_to_show():
    owner, viewer = make_user(), make_user()
    make_post(owner, "before the suspension")
    user_deactivate(user=owner, reason="spam")
    assert _both(viewer, owner, KeysetCursor.start(), 20) == ([], [])


def test_the_header_statement_agrees_with_the_selectors_for_every_relation(world):  # noqa: F811
    author, people, posts = world
    requester, fan = make_user(), make_user()
    author.profile.is_private = True
    author.profile.save(update_fields=["is_private"])
    services.follow_create(follower=requester, followee=author)  # a request: the account is private
    make_follow(author, fan)  # followed by the author
    make_follow(fan, author)
    services.mute_create(muter=fan, muted=author)
    for viewer in [None, AnonymousUser(), author, requester, fan, *people.values()]:
        try:
            header = feed_profile.profile_header_get(viewer=viewer, owner=author)
        except NotFoundError:
            with pytest.raises(NotFoundError):
                feed_profile._profile_header_orm(viewer=viewer, owner=author)
            continue
        assert header == feed_profile._profile_header_orm(viewer=viewer, owner=author), viewer
    header = feed_profile.profile_header_get(viewer=fan, owner=author)
    assert header.relationship == {
        "following": True,
        "requested": False,
        "followed_by": True,
        "blocking": False,
        "muting": True,
    }
    assert header.can_see_posts
    assert feed_profile.profile_header_get(viewer=requester, owner=author).relationship["requested"]
    assert not feed_profile.profile_header_get(viewer=requester, owner=author).can_see_posts


@pytest.mark.parametrize("relation", list(EXPECTED_DIRECT))
def test_the_page_shows_what_each_relation_may_see(world, relation, client):  # noqa: F811
    author, people, posts = world
    client.force_login(people[relation])
    page = client.get(f"/@{author.handle}")
    if relation in ("blocked", "blocker"):
        assert page.status_code == 404
        return
    html = page.content.decode()
    shown = {kind for kind, post in posts.items() if f'id="post-{post.pk}"' in html}
    # The profile feed is opened on purpose: muting does not hide it.
    assert shown == EXPECTED_DIRECT[relation]


def test_load_more_walks_every_post_once_newest_first_with_the_pinned_one_on_top(client, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    author, reader = make_user(handle="prolific"), make_user()
    posts = [make_post(author, f"post {number}") for number in range(45)]
    services.post_pin(user=author, post_id=posts[3].pk)
    client.force_login(reader)
    page = client.get("/@prolific").content.decode()
    pinned_card = rf'<h2 class="small muted">Pinned</h2>\s*<article class="post" id="post-{posts[3].pk}"'
    assert re.search(pinned_card, page)
    seen = []
    while True:
        seen += [int(i) for i in re.findall(r'<article class="post" id="post-(\d+)"', page)]
        found = re.search(r'hx-get="(\?cursor=[^"]+)"', page)
        if not found:
            break
        # As htmx asks for it: only the next posts and button, no pinned card, no page around.
        page = client.get("/@prolific" + found.group(1), HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in page and "Pinned</h2>" not in page
    assert seen[0] == posts[3].pk
    assert seen[1:] == [post.pk for post in reversed(posts)]


@pytest.mark.parametrize("cursor", ["not-a-cursor", KeysetCursor(1, 1, newer=True).encode()])
def test_a_tampered_or_upward_cursor_is_a_404(client, cursor):
    author = make_user(handle="cursored")
    make_post(author, "one")
    assert client.get("/@cursored", {"cursor": cursor}).status_code == 404


def _page_queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [" ".join(q["sql"].split()) for q in ctx.captured_queries]


def test_a_profile_page_is_three_queries_of_its_own_whatever_it_shows(client, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    author, reader = make_user(handle="counted_owner"), make_user()
    make_follow(reader, author)
    make_follow(author, reader)
    for number in range(25):
        images = [services.ImageUpload(png_upload(), "alt")] if number % 3 == 0 else []
        post = make_post(author, f"post {number} @{reader.handle}", images=images, visibility="followers")
        services.like_create(user=reader, post_id=post.pk)
    services.post_pin(user=author, post_id=post.pk)
    client.force_login(reader)
    _page_queries(client, "/@counted_owner")  # the session's first read and write done

    queries = _page_queries(client, "/@counted_owner")
    # Besides the signed-in user's row: the owner's row, the header (block, relationship,
    # counts), the page of posts with its pinned post, flags and images.
    # (The owner's row is a prepared statement: its handle is a parameter, not in the text.)
    own = [q for q in queries if "social_" in q or "UPPER(" in q]
    assert len(own) == 3, queries
    assert "UPPER(" in own[0] and "accounts_profile" in own[0]  # by handle, with its profile
    assert "social_followrequest" in own[1] and "count(*)" in own[1]
    assert "is_pinned" in own[2] and "social_postimage" in own[2]
    assert len(queries) == 4, queries


def test_the_page_statement_stays_short_enough_for_psycopgs_parse_cache():
    assert len(feed_profile.PROFILE_SQL) <= MAX_CACHED_STATEMENT_LENGTH
