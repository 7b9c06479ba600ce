"""Every output shape is built in one place: the API's output serializers document exactly the
keys the presenters return, and the home feed's SQL writes exactly the presenter's keys."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework import serializers
from rest_framework.test import APIClient

from config.api import KeysetCursor
from social import presenters, selectors, services
from social.api import serializers as s
from social.feeds import home
from social.tests.factories import after_commit, make_follow, make_post, make_user, png_upload

pytestmark = pytest.mark.django_db


def fields(serializer: type[serializers.Serializer]) -> set[str]:
    return set(serializer().fields)


@pytest.fixture
def scene():
    alice, bob = make_user(handle="alice"), make_user(handle="bob")
    make_follow(bob, alice)
    post = make_post(alice, "hello #tag @bob", images=[services.ImageUpload(file=png_upload(), alt_text="x")])
    services.like_create(user=bob, post_id=post.pk)
    with_repost = make_post(alice, "repost me")
    with after_commit():
        services.repost_create(user=bob, post_id=with_repost.pk)
    services.mute_create(muter=bob, muted=make_user(), duration=timedelta(days=1))
    services.block_create(blocker=bob, blocked=make_user())
    return alice, bob, post


def test_post_serializers_name_the_post_presenter_keys(scene):
    alice, bob, post = scene
    shown = selectors.post_get_shown(viewer=bob, post_id=post.pk)
    assert set(shown) == fields(s.PostOutputSerializer)
    assert set(shown["author"]) == fields(s.AuthorOutputSerializer)
    assert set(shown["images"][0]) == fields(s.ImageOutputSerializer)


def test_home_feed_items_have_the_presenter_keys_on_both_paths(scene):
    alice, bob, post = scene
    for rows in (
        home._home_rows_orm(user=bob, cursor=KeysetCursor.start(), limit=20),
        *(
            [home._home_rows_postgres(viewer_id=bob.pk, cursor=KeysetCursor.start(), limit=20)]
            if connection.vendor == "postgresql"
            else []
        ),
    ):
        items = [json.loads(item) for _, _, item in rows if item]
        assert items
        for item in items:
            assert set(item) == fields(s.TimelineItemOutputSerializer)
            assert set(item["post"]) == fields(s.PostOutputSerializer)
            assert set(item["post"]["author"]) == fields(s.AuthorOutputSerializer)
        reposted = [item["reposted_by"] for item in items if item["reposted_by"]]
        assert reposted and all(set(r) == fields(s.ReposterOutputSerializer) for r in reposted)


def test_sql_post_object_is_built_from_the_presenter_keys():
    row = {
        key: None for key in ("p_id", "p_author_id", "p_author_handle", "p_author_name", "p_author_avatar")
    }
    row |= {f"p_{key}": None for key in s.PostOutputSerializer().fields}
    row["p_author_handle"] = "someone"
    row["p_author_private"] = False
    assert list(home.POST_SQL) == list(presenters.post_present(row, images=[]))
    assert list(home.ITEM_SQL) == list(
        presenters.timeline_item_present(id=1, created_at=None, reposted_by=None, post={})  # type: ignore[arg-type]  # keys only
    )


def test_people_and_notification_serializers_name_their_presenter_keys(scene):
    alice, bob, post = scene
    client = APIClient()
    client.force_login(bob)
    cases = {
        "/api/v1/users/alice/followers/": s.UserRowOutputSerializer,
        "/api/v1/blocks/": s.UserRowOutputSerializer,
        "/api/v1/mutes/": s.MuteRowOutputSerializer,
        "/api/v1/search/users/?q=ali": s.UserSearchOutputSerializer,
        "/api/v1/search/hashtags/?q=ta": s.HashtagOutputSerializer,
    }
    for url, serializer in cases.items():
        results = client.get(url).json()["results"]
        assert results, url
        assert all(set(result) == fields(serializer) for result in results), url
    client.force_login(alice)
    notifications = client.get("/api/v1/notifications/").json()["results"]
    assert notifications
    for notification in notifications:
        assert set(notification) == fields(s.NotificationOutputSerializer)
        assert set(notification["actor"]) == fields(s.NotificationActorOutputSerializer)
    groups = client.get("/api/v1/notifications/groups/").json()["results"]
    assert groups and all(set(group) == fields(s.NotificationGroupOutputSerializer) for group in groups)
    services.post_edit(user=alice, post_id=post.pk, text="edited")
    edits = client.get(f"/api/v1/posts/{post.pk}/edits/").json()["results"]
    assert edits and all(set(edit) == fields(s.PostEditOutputSerializer) for edit in edits)
