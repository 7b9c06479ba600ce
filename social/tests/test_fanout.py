"""Fan-out for very-followed authors: chunked pushes on their own queue, and above the follower
threshold no push at all but a merge at read time, on the page and in the API alike.

Thresholds are tiny here (``override_settings``) so a "celebrity" needs only a few followers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from config.api import KeysetCursor
from config.celery import FANOUT_QUEUE
from config.celery import app as celery_app
from social import services
from social.feeds import fanout
from social.feeds import home as feed_home
from social.models import PulledAuthor, TimelineEntry
from social.tests.factories import after_commit, make_follow, make_post, make_user
from social.tests.test_visibility import api

pytestmark = pytest.mark.django_db

HOME = "/api/v1/feeds/home/"
ROOT = Path(__file__).resolve().parents[2]
# Above two followers an author is merged at read time; pushes go three followers per task.
SMALL = override_settings(FEED_FANOUT_MAX_FOLLOWERS=2, FEED_FANOUT_CHUNK_SIZE=3)


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["post"]["text"] for item in response.json()["results"]]


def followed_by(author, count: int) -> list:
    people = [make_user() for _ in range(count)]
    for person in people:
        make_follow(person, author)
    return people


@SMALL
def test_a_celebritys_post_is_not_pushed_but_each_follower_sees_it_on_the_page_and_in_the_api(client):
    celebrity = make_user()
    fans = followed_by(celebrity, 3)
    post = make_post(celebrity, "hello, everyone")

    assert not TimelineEntry.objects.filter(post=post).exclude(owner=celebrity).exists()
    assert TimelineEntry.objects.get(post=post, owner=celebrity).pulled
    assert PulledAuthor.objects.filter(author=celebrity).exists()
    for fan in fans:
        assert texts(api(fan).get(HOME)) == ["hello, everyone"]
    client.force_login(fans[0])
    assert "hello, everyone" in client.get("/").content.decode()
    # Not merged for anyone who does not follow them, nor twice for the author.
    assert texts(api(make_user()).get(HOME)) == []
    assert texts(api(celebrity).get(HOME)) == ["hello, everyone"]


@SMALL
def test_an_ordinary_authors_post_is_pushed_in_chunks_that_reach_every_follower():
    author = make_user()
    fans = followed_by(author, 2)
    with override_settings(FEED_FANOUT_MAX_FOLLOWERS=100):
        fans += followed_by(author, 6)  # 8 followers: chunks of 3, 3 and 2
        assert len(fanout._chunk_ranges(followee_id=author.pk, size=3)) == 3
        post = make_post(author, "to all eight")
    owners = set(TimelineEntry.objects.filter(post=post, pulled=False).values_list("owner_id", flat=True))
    assert owners == {author.pk, *(fan.pk for fan in fans)}
    for fan in fans:
        assert texts(api(fan).get(HOME)) == ["to all eight"]
    # Replayed (a retried task), it writes nothing twice.
    assert fanout.timeline_push_post_chunk(post_id=post.pk, after=0, upto=None) == 0


@SMALL
def test_a_repost_reaches_every_follower_in_chunks_but_not_the_author_or_across_a_block():
    author, reposter = make_user(), make_user()
    with override_settings(FEED_FANOUT_MAX_FOLLOWERS=100):
        fans = followed_by(reposter, 7)
        make_follow(author, reposter)
        services.block_create(blocker=fans[0], blocked=author)
        post = make_post(author, "worth sharing")
        with after_commit():
            services.repost_create(user=reposter, post_id=post.pk)
    owners = set(
        TimelineEntry.objects.filter(post=post, reposter=reposter).values_list("owner_id", flat=True)
    )
    assert owners == {reposter.pk, *(fan.pk for fan in fans[1:])}


def test_the_chunks_run_on_the_fanout_queue_that_every_worker_consumes():
    router = celery_app.amqp.router
    for name in ("social.tasks.timeline_push_post_chunk", "social.tasks.timeline_push_repost_chunk"):
        assert router.route({}, name)["queue"].name == FANOUT_QUEUE
    assert router.route({}, "social.tasks.timeline_fan_out_post")["queue"].name == "celery"
    declared = {queue.name for queue in celery_app.conf.task_queues}
    assert declared == {"celery", FANOUT_QUEUE}
    # A worker started with -Q consumes only the queues named; without it, every declared one.
    commands = [
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("worker:")
    ]
    commands.append(json.loads((ROOT / "railway.worker.json").read_text())["deploy"]["startCommand"])
    for command in commands:
        assert "celery -A config worker" in command
        named = re.search(r"(?:-Q|--queues)[= ](\S+)", command)
        assert named is None or set(named.group(1).split(",")) >= declared, command


@SMALL
def test_posting_as_a_celebrity_queues_one_task_and_writes_only_the_authors_own_entry():
    celebrity = make_user()
    fans = followed_by(celebrity, 5)
    with after_commit() as callbacks:
        response = api(celebrity).post("/api/v1/posts/", {"text": "one task"}, format="json")
        assert response.status_code == 201, response.content
        assert TimelineEntry.objects.filter(post_id=response.json()["id"]).count() == 1
    assert len(callbacks) == 1
    assert texts(api(fans[-1]).get(HOME)) == ["one task"]


@SMALL
def test_a_muted_or_blocked_celebritys_posts_do_not_appear():
    celebrity = make_user()
    muter, blocker, blocked, fan = followed_by(celebrity, 4)
    services.mute_create(muter=muter, muted=celebrity)
    make_post(celebrity, "loud news")
    services.block_create(blocker=blocker, blocked=celebrity)
    services.block_create(blocker=celebrity, blocked=blocked)
    for person in (muter, blocker, blocked):
        assert texts(api(person).get(HOME)) == []
    assert texts(api(fan).get(HOME)) == ["loud news"]
    services.mute_delete(muter=muter, muted=celebrity)
    assert texts(api(muter).get(HOME)) == ["loud news"]


@SMALL
def test_visibility_is_checked_on_merged_posts_as_on_pushed_ones():
    celebrity = make_user(private=True)
    fan, mentioned = followed_by(celebrity, 2)
    make_follow(make_user(), celebrity)  # a third follower: above the threshold
    make_post(celebrity, "for followers", visibility="followers")
    make_post(celebrity, f"only for @{mentioned.handle}", visibility="mentioned")
    assert texts(api(fan).get(HOME)) == ["for followers"]
    assert texts(api(mentioned).get(HOME)) == [f"only for @{mentioned.handle}", "for followers"]
    services.follow_delete(follower=fan, followee=celebrity)
    assert texts(api(fan).get(HOME)) == []


@SMALL
def test_pages_over_pushed_and_merged_posts_are_stable_and_cost_the_same_queries(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    reader = make_user()
    stars = [make_user() for _ in range(2)]
    friend = make_user()
    make_follow(reader, friend)
    for star in stars:
        followed_by(star, 2)
        make_follow(reader, star)
    expected = []
    for number in range(30):
        author = (friend, *stars)[number % 3]
        make_post(author, f"post {number}")
        expected.insert(0, f"post {number}")
    assert TimelineEntry.objects.filter(owner=reader).count() == 10  # only the friend's were pushed
    client = api(reader)

    def walk(size: int) -> tuple[list[str], list[int]]:
        seen, queries, url = [], [], f"{HOME}?page_size={size}"
        while url:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            seen += texts(response)
            queries.append(len(ctx.captured_queries))
            url = response.json()["next"]
        return seen, queries

    client.get(HOME)  # the first request also loads the session and the user's rows
    seen, queries = walk(7)
    assert seen == expected
    assert len(set(queries)) == 1  # one statement per page, however many authors are merged
    make_post(stars[0], "brand new")
    first = client.get(HOME, {"page_size": 5})
    assert texts(first)[0] == "brand new"
    second = client.get(first.json()["next"])
    back = client.get(second.json()["previous"])
    assert texts(back) == texts(first)
    assert walk(4)[1][0] == queries[0]


@SMALL
def test_an_author_crossing_the_threshold_either_way_is_neither_doubled_nor_dropped():
    author, reader = make_user(), make_user()
    make_follow(reader, author)
    make_post(author, "pushed while small")
    others = followed_by(author, 2)  # now above the threshold
    make_post(author, "merged while big")
    make_post(author, "merged again")
    for other in others:
        services.follow_delete(follower=other, followee=author)  # back below it
    make_post(author, "pushed again")
    expected = ["pushed again", "merged again", "merged while big", "pushed while small"]
    assert texts(api(reader).get(HOME)) == expected
    # Someone who follows now gets the pushed posts backfilled and the merged ones merged.
    newcomer = make_user()
    make_follow(newcomer, author)
    assert texts(api(newcomer).get(HOME)) == expected
    # A fan-out replayed after the author crossed again stays pushed (never in both paths).
    followed_by(author, 2)
    pushed = TimelineEntry.objects.get(owner=author, post__text="pushed again").post
    assert not fanout.timeline_fan_out_post(post_id=pushed.pk).pulled
    assert texts(api(reader).get(HOME)) == expected
    assert texts(api(newcomer).get(HOME)) == expected
    # Rebuilding the author's own feed keeps their pulled posts merged for everyone else.
    fanout.timeline_rebuild(user=author)
    assert texts(api(reader).get(HOME)) == expected


@SMALL
def test_statement_and_orm_definition_agree_over_merged_posts():
    celebrity, friend, reader = make_user(), make_user(), make_user()
    followed_by(celebrity, 2)
    make_follow(reader, celebrity)
    make_follow(reader, friend)
    for number in range(6):
        make_post((celebrity, friend)[number % 2], f"post {number}")
    services.mute_create(muter=reader, muted=friend)

    def both(cursor: KeysetCursor) -> tuple[list, list]:
        statement = feed_home._home_rows_postgres(viewer_id=reader.pk, cursor=cursor, limit=4)
        reference = feed_home._home_rows_orm(user=reader, cursor=cursor, limit=4)
        return [(i, at, json.loads(x) if x else None) for i, at, x in statement], [
            (i, at, json.loads(x) if x else None) for i, at, x in reference
        ]

    statement, reference = both(KeysetCursor.start())
    assert statement == reference and len(statement) == 4
    entry, at, _ = statement[-1]
    for cursor in (KeysetCursor(at, entry), KeysetCursor(at, entry, newer=True)):
        statement, reference = both(cursor)
        assert statement == reference and statement


def test_the_page_statement_stays_short_enough_for_psycopgs_parse_cache():
    assert len(feed_home._HOME_SQL_OLDER) <= MAX_CACHED_STATEMENT_LENGTH
    assert len(feed_home._HOME_SQL_NEWER) <= MAX_CACHED_STATEMENT_LENGTH
