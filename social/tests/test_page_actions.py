"""In-place actions on the pages (issue 16, bugs 1, 4 and 5)."""

from __future__ import annotations

import json

import pytest

from social import services
from social.models import Block
from social.tests.factories import after_commit, make_follow, make_post, make_user

pytestmark = pytest.mark.django_db


def test_blocking_leads_to_the_blocked_list_where_they_can_be_unblocked(client):
    me, other = make_user(), make_user(handle="pest")
    client.force_login(me)
    response = client.post("/@pest/block/", follow=True)
    assert response.redirect_chain[-1][0] == "/settings/relationships/"
    page = response.content.decode()
    assert response.status_code == 200 and "You blocked @pest" in page and "/@pest/block/" in page
    response = client.post("/@pest/block/", {"next": "/settings/relationships/"}, follow=True)
    assert response.status_code == 200 and "You unblocked @pest" in response.content.decode()
    assert not Block.objects.filter(blocker=me, blocked=other).exists()


def test_blocking_with_htmx_redirects_the_page(client):
    make_user(handle="pest")
    client.force_login(make_user())
    response = client.post("/@pest/block/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/settings/relationships/"


def test_a_failed_in_place_action_says_why(client):
    private = make_user(private=True)
    follower = make_user()
    make_follow(follower, private)
    post = make_post(private, "for followers of a private account")
    client.force_login(follower)
    response = client.post(f"/posts/{post.pk}/repost/", HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    event = json.loads(response["HX-Trigger"])["toast"]
    assert event["level"] == "error" and "repost" in event["message"].lower()


def test_the_repost_button_is_not_offered_where_reposting_is_refused(client):
    private, public = make_user(private=True), make_user()
    follower = make_user()
    make_follow(follower, private)
    closed = make_post(private, "private account's post")
    open_post = make_post(public, "public post")
    client.force_login(follower)
    assert f"/posts/{closed.pk}/repost/" not in client.get(f"/posts/{closed.pk}/").content.decode()
    assert f"/posts/{open_post.pk}/repost/" in client.get(f"/posts/{open_post.pk}/").content.decode()


def test_a_post_and_its_repost_have_distinct_element_ids(client):
    author, reposter, reader = make_user(), make_user(), make_user()
    make_follow(reader, author)
    make_follow(reader, reposter)
    post = make_post(author, "seen twice")
    with after_commit():
        services.repost_create(user=reposter, post_id=post.pk)
    client.force_login(reader)
    page = client.get("/").content.decode()
    assert page.count("seen twice") == 2
    assert page.count(f'id="post-{post.pk}"') == 1
    assert f'id="post-{post.pk}-repost-' in page
