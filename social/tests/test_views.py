"""Pages: compose, feeds with htmx "load more", likes and follows with htmx, settings, admin queue."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from django.core import mail

from accounts import lifecycle
from accounts.demo import seed_users
from accounts.tests.factories import StaffUserFactory
from social import demo, services
from social.models import Follow, FollowRequest, Like, ModerationAction, Post, PostImage, Report, Repost
from social.tests.factories import (
    after_commit,
    fake_image_upload,
    make_follow,
    make_post,
    make_user,
    png_upload,
)

pytestmark = pytest.mark.django_db


def test_visitor_gets_welcome_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_compose_post_with_image(client, user):
    client.force_login(user)
    with after_commit():
        response = client.post(
            "/",
            {
                "text": "from the page #yay",
                "visibility": "public",
                "images": [png_upload()],
                "alt_texts": "red",
            },
        )
    assert response.status_code == 302
    post = Post.objects.get(author=user)
    assert PostImage.objects.get(post=post).alt_text == "red"
    page = client.get("/")
    assert b"from the page" in page.content and b'href="/tags/yay/"' in page.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "visibility": "public"}, b"Write something first."),
        ({"text": "x" * 501, "visibility": "public"}, b"at most 500 characters"),
    ],
)
def test_compose_bad_input_shows_form_errors(client, user, data, message):
    client.force_login(user)
    response = client.post("/", data)
    assert response.status_code == 400
    assert message in response.content
    assert not Post.objects.exists()


def test_compose_fake_image(client, user):
    client.force_login(user)
    response = client.post("/", {"text": "x", "visibility": "public", "images": [fake_image_upload()]})
    assert response.status_code == 400
    assert b"not an image" in response.content or b"image" in response.content
    assert not Post.objects.exists()


def test_compose_rate_limited(client, user, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "1/m"}
    client.force_login(user)
    assert client.post("/", {"text": "one", "visibility": "public"}).status_code == 302
    response = client.post("/", {"text": "two", "visibility": "public"})
    assert response.status_code == 429
    assert b"too often" in response.content


def test_script_is_escaped_on_pages(client, user):
    post = make_post(user, '<script>alert("x")</script>')
    response = client.get(f"/posts/{post.pk}/")
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_home_feed_load_more_with_htmx(client, user, settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    for i in range(25):
        make_post(user, f"numbered post {i:02d}")
    client.force_login(user)
    first = client.get("/")
    assert first.content.count(b'class="post"') == 20
    assert b"numbered post 24" in first.content and b"numbered post 04" not in first.content
    next_url = first.context["next_url"]
    more = client.get(next_url, HTTP_HX_REQUEST="true")
    assert b"<html" not in more.content
    assert more.content.count(b'class="post"') == 5
    assert b"numbered post 04" in more.content


def test_like_with_htmx_returns_the_action_bar(client, user, other_user):
    post = make_post(other_user, "like me")
    client.force_login(user)
    response = client.post(f"/posts/{post.pk}/like/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content and b"Liked" in response.content
    assert Like.objects.filter(user=user, post=post).exists()
    client.post(f"/posts/{post.pk}/like/", HTTP_HX_REQUEST="true")
    assert not Like.objects.exists()
    # Without htmx: a redirect back.
    response = client.post(f"/posts/{post.pk}/repost/", {"next": "/explore/"})
    assert response.status_code == 302 and response["Location"] == "/explore/"
    assert Repost.objects.filter(user=user).exists()
    # An open redirect is refused.
    response = client.post(f"/posts/{post.pk}/bookmark/", {"next": "//evil.example"})
    assert response["Location"] == f"/posts/{post.pk}/"


def test_like_requires_login_and_post(client, user, other_user):
    post = make_post(other_user, "x")
    assert client.post(f"/posts/{post.pk}/like/").status_code == 302  # to login
    client.force_login(user)
    assert client.get(f"/posts/{post.pk}/like/").status_code == 405
    assert client.post("/posts/999999/like/").status_code == 404


def test_follow_with_htmx_and_private_request(client, user):
    bob, carol = make_user(handle="bob"), make_user(handle="carol", private=True)
    client.force_login(user)
    response = client.post("/@bob/follow/", HTTP_HX_REQUEST="true")
    assert b"Unfollow" in response.content and b"<html" not in response.content
    assert Follow.objects.filter(follower=user, followee=bob).exists()
    response = client.post("/@carol/follow/", HTTP_HX_REQUEST="true")
    assert b"Requested" in response.content
    assert FollowRequest.objects.filter(requester=user, target=carol).exists()
    page = client.get("/@carol")
    assert b"This account is private" in page.content
    assert client.post("/@nobody_here/follow/").status_code == 404
    response = client.post(f"/@{user.handle}/follow/", HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_relationships_settings_page(client, user):
    blocked, muted, requester = (
        make_user(handle="blockme"),
        make_user(handle="muteme"),
        make_user(handle="asker"),
    )
    user.profile.is_private = True
    user.profile.save()
    services.block_create(blocker=user, blocked=blocked)
    services.mute_create(muter=user, muted=muted)
    services.follow_create(follower=requester, followee=user)
    client.force_login(user)
    page = client.get("/settings/relationships/")
    assert page.status_code == 200
    for handle in (b"blockme", b"muteme"):
        assert handle in page.content
    # Follow requests have their own page, linked from the navigation.
    assert b'href="/follow-requests/"' in page.content
    requests_page = client.get("/follow-requests/")
    assert b"@asker" in requests_page.content
    response = client.post("/@asker/accept/", {"next": "/follow-requests/"})
    assert response.status_code == 302 and response["Location"] == "/follow-requests/"
    assert Follow.objects.filter(follower=requester, followee=user).exists()
    assert b"@asker follows you now." in client.get("/follow-requests/").content
    client.post("/@muteme/mute/", {"next": "/settings/relationships/"})
    client.post("/@blockme/block/", {"next": "/settings/relationships/"})
    page = client.get("/settings/relationships/")  # the unblock's message names them once more
    assert b"/@blockme/block/" not in page.content and b"/@muteme/mute/" not in page.content


def test_post_page_reply_edit_delete(client, user, other_user):
    post = make_post(other_user, "root post")
    client.force_login(user)
    response = client.post(f"/posts/{post.pk}/", {"text": "my reply", "visibility": "public"})
    assert response.status_code == 302
    assert b"my reply" in client.get(f"/posts/{post.pk}/").content
    assert client.post(f"/posts/{post.pk}/", {"text": "", "visibility": "public"}).status_code == 400
    mine = make_post(user, "draft")
    assert client.post(f"/posts/{mine.pk}/edit/", {"text": "final", "content_warning": ""}).status_code == 302
    page = client.get(f"/posts/{mine.pk}/")
    assert b"final" in page.content and b"Edit history" in page.content
    assert client.get(f"/posts/{post.pk}/edit/").status_code == 404
    assert client.post(f"/posts/{mine.pk}/delete/").status_code == 302
    assert client.get(f"/posts/{mine.pk}/").status_code == 404


def test_notifications_page(client, user, other_user):
    post = make_post(user, "hi")
    services.like_create(user=other_user, post_id=post.pk)
    client.force_login(user)
    page = client.get("/notifications/")
    assert b"liked your post" in page.content and b"1 unread" in page.content
    notification_id = page.context["notifications"][0]["id"]
    assert client.post(f"/notifications/{notification_id}/read/", HTTP_HX_REQUEST="true").status_code == 200
    assert b"unread" not in client.get("/notifications/").content.split(b"<main")[1].split(b"</h1>")[0]


def test_search_page(client, user, other_user):
    make_post(other_user, "Gardening with tomatoes #garden")
    client.force_login(user)
    assert b"tomatoes" in client.get("/search/", {"q": "tomato"}).content
    assert (
        other_user.handle.encode()
        in client.get("/search/", {"q": other_user.handle, "type": "users"}).content
    )
    assert b"#garden" in client.get("/search/", {"q": "gar", "type": "tags"}).content
    assert client.get("/search/", {"q": "x" * 300}).status_code == 400
    assert client.get("/tags/garden/").status_code == 200


def test_profile_followers_and_pinned(client, user, other_user):
    make_follow(other_user, user)
    post = make_post(user, "pinned one")
    services.post_pin(user=user, post_id=post.pk)
    page = client.get(f"/@{user.handle}")
    assert b"Pinned" in page.content
    assert other_user.handle.encode() in client.get(f"/@{user.handle}/followers/").content
    assert user.handle.encode() in client.get(f"/@{other_user.handle}/following/").content
    assert client.get("/@nobody_here").status_code == 404


def test_report_page_and_admin_queue(client, user, other_user):
    post = make_post(other_user, "spammy")
    client.force_login(user)
    assert client.post(f"/posts/{post.pk}/report/", {"reason": "spam", "comment": "ads"}).status_code == 302
    assert client.post(f"/@{other_user.handle}/report/", {"reason": "bogus"}).status_code == 400
    report = Report.objects.get()
    staff = StaffUserFactory()
    client.force_login(staff)
    assert client.get("/admin/social/report/").status_code == 200
    assert client.get(f"/admin/social/report/{report.pk}/change/").status_code == 200
    with after_commit():
        response = client.post(
            "/admin/social/report/", {"action": "warn_user", "_selected_action": [report.pk], "reason": "ads"}
        )
    assert response.status_code == 302
    assert [other_user.email] in [m.to for m in mail.outbox]
    client.post(
        "/admin/social/report/", {"action": "hide_content", "_selected_action": [report.pk], "reason": "ads"}
    )
    post.refresh_from_db()
    assert post.hidden_at is not None
    client.post(
        "/admin/social/report/", {"action": "suspend_user", "_selected_action": [report.pk], "reason": "spam"}
    )
    other_user.refresh_from_db()
    assert not other_user.is_active
    assert set(ModerationAction.objects.values_list("kind", flat=True)) == {"warn", "hide", "suspend"}
    assert all(a.moderator_id == staff.pk for a in ModerationAction.objects.all())


def test_suspended_user_cannot_log_in(client, user):
    from accounts.services import user_deactivate
    from accounts.tests.factories import DEFAULT_PASSWORD

    user_deactivate(user=user, reason="spam")
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_export_and_erase(user, other_user):
    make_follow(user, other_user)
    mine = make_post(user, "my words")
    theirs = make_post(other_user, "their words")
    services.like_create(user=user, post_id=theirs.pk)
    make_post(user, "reply", reply_to_id=theirs.pk)
    exported = lifecycle.exporters()["social"](user=user)
    assert [p["text"] for p in exported["posts"]] == ["my words", "reply"]
    assert exported["following"] == [other_user.handle]
    assert exported["likes"] == [theirs.pk]
    lifecycle.erasers()["social"](user=user)
    theirs.refresh_from_db()
    assert (theirs.like_count, theirs.reply_count) == (0, 0)
    assert not Post.objects.filter(pk=mine.pk).exists()
    assert not Follow.objects.filter(follower=user).exists()


def test_demo_seed_is_idempotent():
    users = seed_users()
    out = io.StringIO()
    with redirect_stdout(out):
        demo.seed(users=users, stdout=out)
        demo.seed(users=users, stdout=out)
    by = {u.handle: u for u in users}
    assert Follow.objects.filter(follower=by["alice"], followee=by["bob"]).exists()
    assert Follow.objects.filter(follower=by["bob"], followee=by["alice"]).exists()
    assert FollowRequest.objects.filter(requester=by["alice"], target=by["carol"]).exists()
    assert Repost.objects.count() == 1
    assert Post.objects.filter(author=by["alice"], reply_to__isnull=True).count() == 2


def test_api_key_scopes(user, other_user):
    from rest_framework.test import APIClient

    from integrations.tests.factories import bearer, issue_key

    post = make_post(other_user, "x")
    read_key = issue_key(user, scopes=["posts:read"]).token
    client = APIClient()
    assert client.get("/api/v1/feeds/home/", **bearer(read_key)).status_code == 200
    response = client.post(f"/api/v1/posts/{post.pk}/like/", **bearer(read_key))
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_scope"
    assert client.get("/api/v1/notifications/", **bearer(read_key)).status_code == 403
    write_key = issue_key(user, scopes=["posts:write", "follows:write"]).token
    assert client.post(f"/api/v1/posts/{post.pk}/like/", **bearer(write_key)).status_code == 200
    assert client.post(f"/api/v1/users/{other_user.handle}/follow/", **bearer(write_key)).status_code == 200
    assert (
        client.post(
            "/api/v1/reports/", {"reason": "spam", "post_id": post.pk}, format="json", **bearer(write_key)
        ).status_code
        == 201
    )
