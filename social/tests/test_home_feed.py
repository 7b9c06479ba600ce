"""The home feed's page statement: keyset paging both ways, tampered cursors, and answers that
match the ORM's definition of visibility and the post endpoint's JSON, item for item."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import user_deactivate
from accounts.tests.factories import StaffUserFactory
from config.api import KeysetCursor
from social import moderation, services
from social.feeds import home as feed_home
from social.models import Post, TimelineEntry
from social.tests.factories import after_commit, make_follow, make_post, make_user, png_upload
from social.tests.test_visibility import EXPECTED_LISTS, api, world  # noqa: F401 - world is a fixture

pytestmark = pytest.mark.django_db

HOME = "/api/v1/feeds/home/"


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["post"]["text"] for item in response.json()["results"]]


@pytest.fixture
def reader(settings):
    """Someone whose home feed holds their own 45 posts, "post 44" newest."""
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    user = make_user()
    for number in range(45):
        make_post(user, f"post {number}")
    return user


def test_pages_walk_the_whole_feed_newest_first_and_back(reader):
    client = api(reader)
    first = client.get(HOME)
    assert texts(first) == [f"post {n}" for n in range(44, 24, -1)]
    assert first.json()["previous"] is None
    second = client.get(first.json()["next"])
    assert texts(second) == [f"post {n}" for n in range(24, 4, -1)]
    third = client.get(second.json()["next"])
    assert texts(third) == [f"post {n}" for n in range(4, -1, -1)]
    assert third.json()["next"] is None

    back = client.get(third.json()["previous"])
    assert texts(back) == texts(second)
    top = client.get(back.json()["previous"])
    assert texts(top) == texts(first)
    assert top.json()["previous"] is None  # nothing above the newest page
    assert texts(client.get(top.json()["next"])) == texts(second)


def test_new_posts_do_not_shift_pages_and_are_found_above_the_first(reader):
    client = api(reader)
    first = client.get(HOME, {"page_size": 10})
    make_post(reader, "brand new")
    second = client.get(first.json()["next"])
    assert texts(second) == [f"post {n}" for n in range(34, 24, -1)]
    back = client.get(second.json()["previous"])
    assert texts(back) == texts(first)
    # Its previous link now leads to what arrived since, and no further.
    newest = client.get(back.json()["previous"])
    assert texts(newest) == ["brand new"] and newest.json()["previous"] is None


def test_rows_sharing_a_timestamp_are_neither_skipped_nor_repeated(reader):
    TimelineEntry.objects.filter(owner=reader).update(created_at=timezone.now())
    client = api(reader)
    seen: list[str] = []
    url: str | None = f"{HOME}?page_size=7"
    while url:
        response = client.get(url)
        seen += texts(response)
        url = response.json()["next"]
    assert sorted(seen) == sorted(f"post {n}" for n in range(45))


def test_page_size(reader):
    assert len(texts(api(reader).get(HOME, {"page_size": "5"}))) == 5
    assert len(texts(api(reader).get(HOME, {"page_size": "100"}))) == 45


@pytest.mark.parametrize("page_size", ["1000", "abc", "-3", "0", ""])
def test_a_page_size_outside_1_to_100_is_refused(reader, page_size):
    response = api(reader).get(HOME, {"page_size": page_size})
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGEgY3Vyc29y",  # "not a cursor"
        KeysetCursor(created_at_us=0, id=0).encode(),  # ids start at 1
        KeysetCursor(created_at_us=0, id=2**63).encode(),  # beyond bigint
        KeysetCursor(created_at_us=10**20, id=1).encode(),  # beyond any date
        base64.urlsafe_b64encode(b"0.1.2").decode(),  # no such direction
    ],
)
def test_tampered_cursor_is_a_404_on_the_api_and_the_page(reader, cursor, client):
    response = api(reader).get(HOME, {"cursor": cursor})
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "Invalid cursor.", "fields": {}}
    client.force_login(reader)
    assert client.get("/", {"cursor": cursor}).status_code == 404


def test_page_load_more_follows_the_same_cursor(reader, client):
    client.force_login(reader)
    first = client.get("/")
    assert first.content.count(b'class="post"') == 20
    more = client.get(first.context["next_url"], HTTP_HX_REQUEST="true")
    assert b"post 24" in more.content and b"post 25" not in more.content


def _items(response) -> dict[int, dict]:
    return {item["post"]["id"]: item for item in response.json()["results"]}


def test_feed_items_match_the_post_endpoint_field_for_field(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    viewer, author, reposter = make_user(), make_user(), make_user()
    author.profile.display_name = 'Ann "the author" <b>'
    author.profile.save(update_fields=["display_name"])
    make_follow(viewer, author)
    make_follow(viewer, reposter)
    pictured = make_post(
        author,
        "two pictures #tag",
        images=[services.ImageUpload(png_upload(), "first"), services.ImageUpload(png_upload("b.png"), "")],
    )
    warned = make_post(author, "spoiler", content_warning="ending ✨")
    edited = make_post(author, "before")
    services.post_edit(user=author, post_id=edited.pk, text="after, with a link https://example.com")
    services.post_pin(user=author, post_id=edited.pk)
    services.like_create(user=viewer, post_id=pictured.pk)
    services.bookmark_create(user=viewer, post_id=warned.pk)
    with after_commit():
        services.repost_create(user=reposter, post_id=warned.pk)
    # A whole second: DRF writes no fraction then, and neither may the statement.
    Post.objects.filter(pk=pictured.pk).update(created_at=timezone.now().replace(microsecond=0))

    client = api(viewer)
    feed = client.get(HOME).json()["results"]
    assert [(i["post"]["id"], bool(i["reposted_by"])) for i in feed] == [
        (warned.pk, True),
        (edited.pk, False),
        (warned.pk, False),
        (pictured.pk, False),
    ]
    for item in feed:
        assert item["post"] == client.get(f"/api/v1/posts/{item['post']['id']}/").json()
    assert feed[0]["reposted_by"] == {"handle": reposter.handle, "display_name": reposter.handle}
    assert feed[3]["post"]["created_at"].endswith(":00Z") or "." not in feed[3]["post"]["created_at"]
    assert [i["alt_text"] for i in feed[3]["post"]["images"]] == ["first", ""]
    assert feed[3]["post"]["liked"] and feed[2]["post"]["bookmarked"] and feed[1]["post"]["is_pinned"]


def _fill_every_timeline(author, people, posts) -> None:
    """Entries for every post in every feed, as if fan-out had reached everyone and nothing
    had been cleaned up since: what a page shows is then decided by the read path alone."""
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(owner=owner, post=post, actor=post.author, created_at=post.created_at)
            for owner in [author, *people.values()]
            for post in posts.values()
        ],
        ignore_conflicts=True,
    )


@pytest.mark.parametrize("relation", list(EXPECTED_LISTS))
def test_page_shows_only_what_the_viewer_may_see_whatever_the_timeline_holds(world, relation):  # noqa: F811
    author, people, posts = world
    _fill_every_timeline(author, people, posts)
    ids = {post.pk: kind for kind, post in posts.items()}
    shown = {ids[item["post"]["id"]] for item in api(people[relation]).get(HOME).json()["results"]}
    assert shown == EXPECTED_LISTS[relation]


def test_statement_and_orm_definition_agree_for_every_relation(world):  # noqa: F811
    author, people, posts = world
    hidden, deleted = make_post(author, "hidden by staff"), make_post(author, "deleted")
    suspended = make_user()
    moderation.moderation_hide_post(moderator=StaffUserFactory(), post=hidden)
    services.post_delete(user=author, post_id=deleted.pk)
    gone = make_post(suspended, "by a suspended author")
    user_deactivate(user=suspended, reason="spam")
    services.mute_create(muter=people["stranger"], muted=author, duration=timedelta(seconds=-1))  # over
    _fill_every_timeline(author, people, {**posts, "hidden": hidden, "deleted": deleted, "gone": gone})
    # Reposts of the public post, by someone active and by someone suspended since.
    sharer, banned = make_user(), make_user()
    user_deactivate(user=banned, reason="spam")
    TimelineEntry.objects.bulk_create(
        TimelineEntry(owner=owner, post=posts["public"], actor=reposter, reposter=reposter)
        for owner in [author, *people.values()]
        for reposter in (sharer, banned)
    )

    def parsed(rows):
        return [(entry, at, json.loads(item) if item else None) for entry, at, item in rows]

    for viewer in [author, *people.values()]:
        newest = feed_home._home_rows_postgres(viewer_id=viewer.pk, cursor=KeysetCursor.start(), limit=3)
        cursors = [KeysetCursor.start()]
        if newest:
            entry, at, _ = newest[-1]
            cursors += [KeysetCursor(at, entry), KeysetCursor(at, entry, newer=True)]
        for cursor in cursors:
            statement = feed_home._home_rows_postgres(viewer_id=viewer.pk, cursor=cursor, limit=20)
            reference = feed_home._home_rows_orm(user=viewer, cursor=cursor, limit=20)
            assert parsed(statement) == parsed(reference), (viewer.handle, cursor)


def test_reposts_by_someone_suspended_leave_their_followers_feeds(client):
    author, reposter, follower = make_user(), make_user(), make_user()
    make_follow(follower, reposter)
    post = make_post(author, "worth sharing")
    with after_commit():
        services.repost_create(user=reposter, post_id=post.pk)
    items = api(follower).get(HOME).json()["results"]
    assert [(item["post"]["text"], item["reposted_by"]["handle"]) for item in items] == [
        ("worth sharing", reposter.handle)
    ]
    client.force_login(follower)
    assert "worth sharing" in client.get("/").content.decode()

    moderation.moderation_suspend_user(moderator=StaffUserFactory(), user=reposter)

    assert texts(api(follower).get(HOME)) == []
    # The feed is empty now; the first-run "Posts to read" below it may suggest the public post.
    home = client.get("/").content.decode()
    assert "Your home feed is empty" in home
    assert "worth sharing" not in home.split("Posts to read")[0]
    # The author's own feed still holds the post itself.
    assert texts(api(author).get(HOME)) == ["worth sharing"]
