"""Very-followed people's reposts are merged at read time like their posts, and the merge goes
as far back as a reader pages: pulled entries are never trimmed (social/README.md).

Thresholds are tiny here (``override_settings``): above two followers an author is pulled.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from accounts.services import user_deactivate
from config.api import KeysetCursor
from social import services
from social.feeds import fanout
from social.feeds import home as feed_home
from social.models import PulledAuthor, TimelineEntry
from social.tests.factories import after_commit, make_follow, make_post, make_user
from social.tests.test_visibility import api

pytestmark = pytest.mark.django_db

HOME = "/api/v1/feeds/home/"
SMALL = override_settings(FEED_FANOUT_MAX_FOLLOWERS=2, FEED_FANOUT_CHUNK_SIZE=3)


def shown(user) -> list[tuple[str, str | None]]:
    """The viewer's home feed as (text, reposter's handle) pairs, newest first."""
    response = api(user).get(HOME)
    assert response.status_code == 200, response.content
    return [
        (item["post"]["text"], (item["reposted_by"] or {}).get("handle"))
        for item in response.json()["results"]
    ]


def followed_by(author, count: int) -> list:
    people = [make_user() for _ in range(count)]
    for person in people:
        make_follow(person, author)
    return people


def repost(user, post) -> None:
    with after_commit():
        services.repost_create(user=user, post_id=post.pk)


@SMALL
def test_a_celebritys_repost_is_merged_with_the_reposter_shown_and_goes_with_the_unrepost(client):
    celebrity, author = make_user(), make_user()
    fans = followed_by(celebrity, 3)
    make_follow(author, celebrity)  # the post's author follows the reposter too
    post = make_post(author, "worth sharing")
    repost(celebrity, post)

    rows = TimelineEntry.objects.filter(post=post, reposter=celebrity)
    assert [(row.owner_id, row.pulled) for row in rows] == [(celebrity.pk, True)]
    assert PulledAuthor.objects.filter(author=celebrity).exists()
    for fan in fans:
        assert shown(fan) == [("worth sharing", celebrity.handle)]
    client.force_login(fans[0])
    page = client.get("/").content.decode()
    assert "worth sharing" in page and celebrity.handle in page
    # Nobody else's repost of your own post reaches you, merged or pushed.
    assert shown(author) == [("worth sharing", None)]
    assert shown(celebrity) == [("worth sharing", celebrity.handle)]

    services.repost_delete(user=celebrity, post_id=post.pk)
    for fan in fans:
        assert shown(fan) == []


@SMALL
def test_a_merged_repost_follows_the_visibility_block_and_mute_rules_of_a_pushed_one():
    celebrity, author = make_user(), make_user()
    fan, blocker, mutes_author, mutes_celebrity, follows_author = followed_by(celebrity, 5)
    make_follow(follows_author, author)
    post = make_post(author, "worth sharing")
    repost(celebrity, post)
    services.block_create(blocker=blocker, blocked=author)
    services.mute_create(muter=mutes_author, muted=author)
    services.mute_create(muter=mutes_celebrity, muted=celebrity)
    assert shown(fan) == [("worth sharing", celebrity.handle)]
    for person in (blocker, mutes_author, mutes_celebrity):
        assert shown(person) == []

    # The author goes private: only their followers may still see the post, reposted or not.
    author.profile.is_private = True
    author.profile.save(update_fields=["is_private"])
    assert shown(fan) == []
    assert ("worth sharing", celebrity.handle) in shown(follows_author)

    user_deactivate(user=celebrity, reason="spam")  # a suspended reposter's reposts go
    assert shown(follows_author) == [("worth sharing", None)]


@SMALL
def test_reposts_across_the_threshold_either_way_are_neither_doubled_nor_dropped():
    reposter, author, reader = make_user(), make_user(), make_user()
    make_follow(reader, reposter)
    first, second, third = (make_post(author, text) for text in ("first", "second", "third"))
    repost(reposter, first)  # pushed: one follower
    others = followed_by(reposter, 2)  # now above the threshold
    repost(reposter, second)  # pulled
    for other in others:
        services.follow_delete(follower=other, followee=reposter)  # back below it
    repost(reposter, third)  # pushed again
    expected = [("third", reposter.handle), ("second", reposter.handle), ("first", reposter.handle)]
    assert shown(reader) == expected
    pulled = TimelineEntry.objects.filter(reposter=reposter, pulled=True).values_list("post_id", flat=True)
    assert list(pulled) == [second.pk]

    # Fan-outs replayed on the other side of the threshold keep their path.
    repost_ids = {post.pk: rid for rid, post in ((r.pk, r.post) for r in reposter.reposts.all())}
    assert fanout.timeline_fan_out_repost(repost_id=repost_ids[second.pk]).pulled
    followed_by(reposter, 2)
    assert not fanout.timeline_fan_out_repost(repost_id=repost_ids[third.pk]).pulled
    assert shown(reader) == expected

    services.repost_delete(user=reposter, post_id=second.pk)
    services.repost_delete(user=reposter, post_id=first.pk)
    assert shown(reader) == [("third", reposter.handle)]


@SMALL
def test_a_celebrity_unfollowing_or_blocking_the_author_keeps_their_repost_in_followers_feeds():
    celebrity, author, other = make_user(), make_user(), make_user()
    fan = followed_by(celebrity, 3)[0]
    make_follow(celebrity, author)
    make_follow(celebrity, other)
    repost(celebrity, make_post(author, "by the author"))
    repost(celebrity, make_post(other, "by the other"))
    services.follow_delete(follower=celebrity, followee=author)
    services.block_create(blocker=celebrity, blocked=other)
    # As pushed copies would stay in the followers' feeds (the block is the celebrity's, not theirs).
    assert shown(fan) == [("by the other", celebrity.handle), ("by the author", celebrity.handle)]


@SMALL
def test_a_reader_paging_back_past_the_trimmed_end_still_sees_every_merged_entry_once_in_order(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    celebrity, friend, reader = make_user(), make_user(), make_user()
    followed_by(celebrity, 2)
    make_follow(reader, celebrity)
    make_follow(reader, friend)
    expected: list[tuple[str, str | None]] = []
    for number in range(16):
        if number % 4 == 3:
            repost(celebrity, make_post(make_user(), f"shared {number}"))
            expected.insert(0, (f"shared {number}", celebrity.handle))
        else:
            author = (celebrity, friend)[number % 2]
            make_post(author, f"post {number}")
            expected.insert(0, (f"post {number}", None))
    friends = [text for text, by in expected if text.startswith("post") and int(text.split()[1]) % 2]
    assert TimelineEntry.objects.filter(owner=reader).count() == len(friends)

    fanout.timeline_trim(keep=3)  # every feed keeps its 3 newest pushed entries

    assert TimelineEntry.objects.filter(owner=reader).count() == 3
    assert TimelineEntry.objects.filter(owner=celebrity, pulled=True).count() == 12  # none trimmed
    kept = set(friends[:3])
    expected = [(text, by) for text, by in expected if text not in friends or text in kept]
    client = api(reader)
    down, url, last = [], f"{HOME}?page_size=2", None
    while url:
        last = client.get(url).json()
        down += [(i["post"]["text"], (i["reposted_by"] or {}).get("handle")) for i in last["results"]]
        url = last["next"]
    assert down == expected
    # And back up from the oldest page, nothing skipped or repeated that way either.
    up, url = [], last["previous"]
    while url:
        page = client.get(url).json()
        up = [(i["post"]["text"], (i["reposted_by"] or {}).get("handle")) for i in page["results"]] + up
        url = page["previous"]
    assert up + down[-len(last["results"]) :] == expected

    # The statement and the ORM's definition agree deep down too.
    rows = feed_home._home_rows_postgres(viewer_id=reader.pk, cursor=KeysetCursor.start(), limit=9)
    entry, at, _ = rows[-1]
    for cursor in (KeysetCursor(at, entry), KeysetCursor(at, entry, newer=True)):
        statement = feed_home._home_rows_postgres(viewer_id=reader.pk, cursor=cursor, limit=4)
        reference = feed_home._home_rows_orm(user=reader, cursor=cursor, limit=4)
        assert [(i, a, json.loads(x) if x else None) for i, a, x in statement] == [
            (i, a, json.loads(x) if x else None) for i, a, x in reference
        ]
        assert statement


@SMALL
def test_statement_and_orm_agree_over_merged_reposts_of_the_readers_own_post():
    celebrity, reader = make_user(), make_user()
    followed_by(celebrity, 2)
    make_follow(reader, celebrity)
    own = make_post(reader, "mine")
    repost(celebrity, own)
    repost(celebrity, make_post(make_user(), "theirs"))
    statement = feed_home._home_rows_postgres(viewer_id=reader.pk, cursor=KeysetCursor.start(), limit=5)
    reference = feed_home._home_rows_orm(user=reader, cursor=KeysetCursor.start(), limit=5)
    assert [(i, a, json.loads(x) if x else None) for i, a, x in statement] == [
        (i, a, json.loads(x) if x else None) for i, a, x in reference
    ]
    assert shown(reader) == [("theirs", celebrity.handle), ("mine", None)]
