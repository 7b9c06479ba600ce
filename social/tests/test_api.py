from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from social import services
from social.models import Like, Notification, Post, Report
from social.tests.factories import (
    after_commit,
    fake_image_upload,
    make_follow,
    make_post,
    make_user,
    png_upload,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) >= {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# --- Posts ------------------------------------------------------------------------------------


def test_create_post_json(user):
    client = client_for(user)
    with after_commit():
        response = client.post("/api/v1/posts/", {"text": "Hello <b>#World</b>"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["text"] == "Hello <b>#World</b>"
    assert "&lt;b&gt;" in body["html"] and 'href="/tags/world/"' in body["html"]
    assert body["author"]["handle"] == user.handle
    assert body["liked"] is False and body["images"] == []
    feed = client.get("/api/v1/feeds/home/").json()
    assert [item["post"]["id"] for item in feed["results"]] == [body["id"]]


def test_create_post_with_images_multipart(user):
    client = client_for(user)
    response = client.post(
        "/api/v1/posts/",
        {"text": "pics", "images": [png_upload(), png_upload("b.png")], "alt_texts": ["first", "second"]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    images = response.json()["images"]
    assert [i["alt_text"] for i in images] == ["first", "second"]
    assert images[0]["url"].startswith("/media/posts/")


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"text": ""}, "empty_post", "text"),
        ({"text": "x" * 501}, "post_too_long", "text"),
        ({"text": "x", "visibility": "everyone"}, "invalid", "visibility"),
        ({"text": "x", "reply_to_id": "abc"}, "invalid", "reply_to_id"),
        ({"text": "x", "content_warning": "c" * 201}, "invalid", "content_warning"),
    ],
)
def test_create_post_bad_input(user, payload, code, field):
    error = assert_error(client_for(user).post("/api/v1/posts/", payload, format="json"), 400, code)
    assert field in error["fields"]
    assert not Post.objects.exists()


def test_fake_image_is_refused(user):
    response = client_for(user).post(
        "/api/v1/posts/", {"text": "x", "images": [fake_image_upload()]}, format="multipart"
    )
    assert_error(response, 400, "invalid_image")
    assert not Post.objects.exists()


def test_mention_of_missing_user_is_plain_text(user):
    response = client_for(user).post("/api/v1/posts/", {"text": "hi @no_such_person"}, format="json")
    assert response.status_code == 201
    assert "<a" not in response.json()["html"]


def test_reply_to_deleted_or_invisible_post_is_404(user):
    other = make_user(private=True)
    hidden = make_post(other, "private")
    client = client_for(user)
    assert_error(
        client.post(f"/api/v1/posts/{hidden.pk}/replies/", {"text": "hi"}, format="json"), 404, "not_found"
    )
    mine = make_post(user, "mine")
    services.post_delete(user=user, post_id=mine.pk)
    assert_error(client.post("/api/v1/posts/", {"text": "hi", "reply_to_id": mine.pk}, format="json"), 404)


def test_reply_and_list_replies(user, other_user):
    post = make_post(other_user, "root")
    client = client_for(user)
    response = client.post(f"/api/v1/posts/{post.pk}/replies/", {"text": "a reply"}, format="json")
    assert response.status_code == 201
    assert response.json()["reply_to_id"] == post.pk
    replies = client.get(f"/api/v1/posts/{post.pk}/replies/").json()["results"]
    assert [r["text"] for r in replies] == ["a reply"]
    assert client.get(f"/api/v1/posts/{post.pk}/").json()["reply_count"] == 1


def test_edit_and_history(user, other_user):
    post = make_post(user, "v1")
    client = client_for(user)
    response = client.patch(f"/api/v1/posts/{post.pk}/", {"text": "v2"}, format="json")
    assert response.status_code == 200 and response.json()["text"] == "v2"
    assert response.json()["edited_at"] is not None
    history = client.get(f"/api/v1/posts/{post.pk}/edits/").json()["results"]
    assert [h["text"] for h in history] == ["v1"]
    assert_error(client_for(other_user).patch(f"/api/v1/posts/{post.pk}/", {"text": "x"}, format="json"), 403)
    assert_error(client.patch(f"/api/v1/posts/{post.pk}/", {"text": ""}, format="json"), 400, "empty_post")
    # A PATCH names what changes: nothing named, nothing changed (the schema's PatchedPostEdit
    # makes every field optional, and the server agrees).
    unchanged = client.patch(f"/api/v1/posts/{post.pk}/", {}, format="json")
    assert unchanged.status_code == 200 and unchanged.json()["text"] == "v2"
    warned = client.patch(f"/api/v1/posts/{post.pk}/", {"content_warning": "spoilers"}, format="json")
    assert warned.status_code == 200
    assert (warned.json()["text"], warned.json()["content_warning"]) == ("v2", "spoilers")


def test_delete_post(user, other_user):
    post = make_post(user, "bye")
    assert_error(client_for(other_user).delete(f"/api/v1/posts/{post.pk}/"), 403)
    assert client_for(user).delete(f"/api/v1/posts/{post.pk}/").status_code == 204
    assert_error(client_for(other_user).get(f"/api/v1/posts/{post.pk}/"), 404, "not_found")


def test_like_is_idempotent(user, other_user):
    post = make_post(other_user, "like me")
    client = client_for(user)
    for _ in range(2):
        response = client.post(f"/api/v1/posts/{post.pk}/like/")
        assert response.status_code == 200
        assert response.json()["liked"] is True and response.json()["like_count"] == 1
    assert Like.objects.count() == 1
    response = client.delete(f"/api/v1/posts/{post.pk}/like/")
    assert response.json()["liked"] is False and response.json()["like_count"] == 0
    assert_error(client.post("/api/v1/posts/999999/like/"), 404)


def test_repost_bookmark_pin(user, other_user):
    post = make_post(other_user, "good")
    client = client_for(user)
    assert client.post(f"/api/v1/posts/{post.pk}/repost/").json()["reposted"] is True
    assert client.post(f"/api/v1/posts/{post.pk}/bookmark/").json()["bookmarked"] is True
    assert [p["id"] for p in client.get("/api/v1/bookmarks/").json()["results"]] == [post.pk]
    assert_error(client.post(f"/api/v1/posts/{post.pk}/pin/"), 403, "not_author")
    mine = make_post(user, "pin me")
    assert client.post(f"/api/v1/posts/{mine.pk}/pin/").json()["is_pinned"] is True
    friends = make_post(other_user, "friends only", visibility="followers")
    make_follow(user, other_user)
    assert_error(client.post(f"/api/v1/posts/{friends.pk}/repost/"), 400, "cannot_repost")


# --- Relationships ----------------------------------------------------------------------------


def test_follow_flow_with_private_account(user):
    carol = make_user(private=True)
    client = client_for(user)
    assert client.post(f"/api/v1/users/{carol.handle}/follow/").json() == {"status": "requested"}
    carol_client = client_for(carol)
    requests = carol_client.get("/api/v1/follow-requests/").json()["results"]
    assert [r["handle"] for r in requests] == [user.handle]
    assert carol_client.post(f"/api/v1/follow-requests/{user.handle}/accept/").status_code == 204
    assert_error(carol_client.post(f"/api/v1/follow-requests/{user.handle}/reject/"), 404)
    followers = carol_client.get(f"/api/v1/users/{carol.handle}/followers/").json()["results"]
    assert [f["handle"] for f in followers] == [user.handle]
    assert client.get(f"/api/v1/users/{carol.handle}/relationship/").json()["following"] is True
    assert carol_client.delete(f"/api/v1/followers/{user.handle}/").status_code == 204
    assert client.get(f"/api/v1/users/{carol.handle}/relationship/").json()["following"] is False


def test_follow_bad_input(user):
    client = client_for(user)
    assert_error(client.post(f"/api/v1/users/{user.handle}/follow/"), 400, "self_follow")
    assert_error(client.post("/api/v1/users/nobody_at_all/follow/"), 404, "not_found")


def test_follow_rate_limit_is_429(user, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "follow": "1/m"}
    client = client_for(user)
    assert client.post(f"/api/v1/users/{make_user().handle}/follow/").status_code == 200
    response = client.post(f"/api/v1/users/{make_user().handle}/follow/")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


def test_block_and_mute_lists(user, other_user):
    client = client_for(user)
    assert (
        client.post(
            f"/api/v1/users/{other_user.handle}/mute/", {"duration_minutes": 60}, format="json"
        ).status_code
        == 204
    )
    mutes = client.get("/api/v1/mutes/").json()["results"]
    assert mutes[0]["handle"] == other_user.handle and mutes[0]["expires_at"] is not None
    assert_error(
        client.post(f"/api/v1/users/{other_user.handle}/mute/", {"duration_minutes": 0}, format="json"), 400
    )
    assert client.post(f"/api/v1/users/{other_user.handle}/block/").status_code == 204
    assert [b["handle"] for b in client.get("/api/v1/blocks/").json()["results"]] == [other_user.handle]
    assert_error(client.post(f"/api/v1/users/{user.handle}/block/"), 400, "self_block")
    assert client.delete(f"/api/v1/users/{other_user.handle}/block/").status_code == 204
    assert client.get("/api/v1/blocks/").json()["results"] == []


# --- Notifications ---------------------------------------------------------------------------------


def test_notifications_flow(user, other_user):
    post = make_post(user, "hi")
    services.like_create(user=other_user, post_id=post.pk)
    services.follow_create(follower=other_user, followee=user)
    client = client_for(user)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}
    results = client.get("/api/v1/notifications/").json()["results"]
    assert {n["kind"] for n in results} == {"like", "follow"}
    assert results[0]["actor"]["handle"] == other_user.handle
    groups = client.get("/api/v1/notifications/groups/").json()["results"]
    assert {(g["kind"], g["count"]) for g in groups} == {("like", 1), ("follow", 1)}
    assert client.post(f"/api/v1/notifications/{results[0]['id']}/read/").status_code == 204
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert_error(client_for(other_user).post(f"/api/v1/notifications/{results[0]['id']}/read/"), 404)


# --- Search, reports ---------------------------------------------------------------------------------


def test_search(user, other_user):
    make_post(other_user, "Running with the elephants today #Safari")
    client = client_for(user)
    posts = client.get("/api/v1/search/posts/", {"q": "elephant"}).json()["results"]
    assert len(posts) == 1
    users = client.get("/api/v1/search/users/", {"q": other_user.handle[:4]}).json()["results"]
    assert other_user.handle in [u["handle"] for u in users]
    tags = client.get("/api/v1/search/hashtags/", {"q": "#saf"}).json()["results"]
    assert tags == [{"name": "safari", "url": "/tags/safari/"}]
    assert_error(client.get("/api/v1/search/posts/"), 400, "invalid")
    assert_error(client.get("/api/v1/search/posts/", {"q": "x" * 201}), 400)


def test_reports(user, other_user):
    post = make_post(other_user, "bad")
    client = client_for(user)
    response = client.post(
        "/api/v1/reports/", {"reason": "spam", "post_id": post.pk, "comment": "ads"}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "open"
    response = client.post(
        "/api/v1/reports/", {"reason": "harassment", "handle": other_user.handle}, format="json"
    )
    assert response.status_code == 201
    assert Report.objects.filter(target_user=other_user).count() == 2
    assert_error(client.post("/api/v1/reports/", {"reason": "spam"}, format="json"), 400, "invalid")
    assert_error(
        client.post("/api/v1/reports/", {"reason": "meh", "handle": other_user.handle}, format="json"), 400
    )
    assert_error(client.post("/api/v1/reports/", {"reason": "spam", "post_id": 999999}, format="json"), 404)


def test_anonymous_is_refused(api_client):
    assert_error(api_client.get("/api/v1/feeds/home/"), 401, "not_authenticated")


def test_post_rate_limit_is_429(user, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "1/m"}
    client = client_for(user)
    assert client.post("/api/v1/posts/", {"text": "one"}, format="json").status_code == 201
    assert_error(client.post("/api/v1/posts/", {"text": "two"}, format="json"), 429, "rate_limited")


def test_notifications_not_sent_when_suspended_actor():
    alice, bob = make_user(), make_user()
    post = make_post(alice, "x")
    services.like_create(user=bob, post_id=post.pk)
    from accounts.services import user_deactivate

    user_deactivate(user=bob, reason="spam")
    assert client_for(alice).get("/api/v1/notifications/").json()["results"] == []
    assert Notification.objects.filter(recipient=alice).count() == 1
