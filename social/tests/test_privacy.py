"""Privacy and correctness holes found by the outside review (issues 13, 14 and 16), each
tested where a user or an attacker would notice it."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from accounts.services.profile import profile_update
from accounts.tests.factories import StaffUserFactory
from social import moderation, services
from social.models import ModerationAction, Post, PostEdit, Report
from social.tests.factories import after_commit, make_follow, make_post, make_user

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def excerpts(user) -> list[str | None]:
    return [n["post_excerpt"] for n in api(user).get("/api/v1/notifications/").json()["results"]]


def assert_error(response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.content)
    assert set(response.json()["error"]) >= {"code", "message", "fields"}


# --- 13.5: notification excerpts follow the post's visibility and content warning ------------


def test_mention_edited_out_of_a_followers_only_post_stops_quoting_it(client):
    author, reader = make_user(), make_user(handle="reader")
    post = make_post(author, "hi @reader", visibility="followers")
    assert excerpts(reader) == ["hi @reader"]
    services.post_edit(user=author, post_id=post.pk, text="now a secret for followers")
    assert excerpts(reader) == [None]
    client.force_login(reader)
    assert "secret" not in client.get("/notifications/").content.decode()


def test_a_post_hidden_by_a_moderator_is_not_quoted():
    author, reader = make_user(), make_user(handle="reader")
    post = make_post(author, "nasty words @reader")
    moderation.moderation_hide_post(moderator=StaffUserFactory(), post=post)
    assert excerpts(reader) == [None]


def test_a_reply_you_cannot_see_neither_notifies_nor_quotes():
    author, replier = make_user(), make_user()
    post = make_post(author, "public question")
    make_post(replier, "followers-only answer", reply_to_id=post.pk, visibility="followers")
    assert "followers-only answer" not in str(excerpts(author))
    assert excerpts(author) == []


def test_a_content_warned_post_shows_its_warning_not_its_text(client):
    author, reader = make_user(), make_user(handle="reader")
    make_post(author, "the butler did it @reader", content_warning="film spoilers")
    assert excerpts(reader) == ["CW: film spoilers"]
    client.force_login(reader)
    page = client.get("/notifications/").content.decode()
    assert "film spoilers" in page and "butler" not in page


# --- 13.6: hashtag search ------------------------------------------------------------------


def test_hashtag_search_shows_only_tags_of_posts_the_viewer_may_see():
    author, follower, stranger = make_user(), make_user(), make_user()
    make_follow(follower, author)
    make_post(author, "for my followers #followersonlytag", visibility="followers")
    gone = make_post(author, "soon gone #deletedtag")
    services.post_delete(user=author, post_id=gone.pk)
    private = make_user(private=True)
    make_post(private, "private account #privatetag")

    def names(user, q):
        return [t["name"] for t in api(user).get(f"/api/v1/search/hashtags/?q={q}").json()["results"]]

    assert names(stranger, "followersonly") == []
    assert names(follower, "followersonly") == ["followersonlytag"]
    assert names(author, "deleted") == []
    assert names(stranger, "privatetag") == []


# --- 13.7: a reply is never more visible than its parent ----------------------------------------


def test_a_reply_to_a_mentioned_only_post_defaults_to_mentioned_only(client):
    author, friend = make_user(), make_user(handle="friend")
    post = make_post(author, "just for @friend", visibility="mentioned")
    response = api(friend).post(f"/api/v1/posts/{post.pk}/replies/", {"text": "thanks!"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["visibility"] == "mentioned"
    reply_id = response.json()["id"]
    assert client.get(f"/posts/{reply_id}/").status_code == 404  # an anonymous visitor
    assert api(make_user()).get(f"/api/v1/posts/{reply_id}/").status_code == 404


def test_a_reply_wider_than_its_parent_is_refused():
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    post = make_post(author, "followers only", visibility="followers")
    response = api(follower).post(
        f"/api/v1/posts/{post.pk}/replies/", {"text": "to all!", "visibility": "public"}, format="json"
    )
    assert_error(response, 400)
    assert "visibility" in response.json()["error"]["fields"]
    response = api(follower).post(
        "/api/v1/posts/", {"text": "to all!", "visibility": "public", "reply_to_id": post.pk}, format="json"
    )
    assert_error(response, 400)
    assert not Post.objects.filter(reply_to=post).exists()


def test_the_reply_form_defaults_to_the_parents_visibility(client):
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    post = make_post(author, "followers only", visibility="followers")
    client.force_login(follower)
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert '<option value="followers" selected>' in page
    with after_commit():
        client.post(f"/posts/{post.pk}/", {"text": "a reply"})
    assert Post.objects.get(reply_to=post).visibility == "followers"


# --- 13.4: invalid path parameters and cursors ----------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/users/%00/posts/"),
        ("get", "/api/v1/tags/%00/posts/"),
        ("post", "/api/v1/follow-requests/%00/accept/"),
        ("post", "/api/v1/users/%00/block/"),
        ("get", "/api/v1/users/%00/followers/"),
    ],
)
def test_a_nul_byte_in_a_path_parameter_is_a_clear_4xx(method, url):
    response = getattr(api(make_user()), method)(url)
    assert_error(response, 400, 404)


@pytest.mark.parametrize("kind", ["users", "hashtags", "posts"])
def test_a_cursor_holding_a_nul_byte_is_a_clear_4xx(kind):
    cursor = base64.b64encode(urlencode({"p": "\x00"}).encode()).decode()
    response = api(make_user()).get(f"/api/v1/search/{kind}/", {"q": "abc", "cursor": cursor})
    assert_error(response, 400, 404)


def test_options_on_action_endpoints_never_fails():
    user = make_user(handle="someone")
    post = make_post(user, "hi")
    client = api(make_user())
    notification_id = 1
    for url in (
        "/api/v1/follow-requests/someone/accept/",
        "/api/v1/follow-requests/someone/reject/",
        "/api/v1/users/someone/block/",
        "/api/v1/users/someone/mute/",
        f"/api/v1/notifications/{notification_id}/read/",
        f"/api/v1/posts/{post.pk}/replies/",
        f"/api/v1/posts/{post.pk}/like/",
    ):
        assert client.options(url).status_code < 500, url


# --- 13.20: what the schema promises ----------------------------------------------------------


def test_notification_groups_are_a_page():
    author = make_user()
    post = make_post(author, "popular")
    for _ in range(3):
        services.like_create(user=make_user(), post_id=post.pk)
    body = api(author).get("/api/v1/notifications/groups/?page_size=1").json()
    assert set(body) == {"next", "previous", "results"}
    assert [(g["kind"], g["count"]) for g in body["results"]] == [("like", 3)]


@pytest.mark.parametrize("extra", [{"handle": ""}, {"handle": "someone"}])
def test_a_report_naming_a_post_and_a_handle_is_refused(extra):
    make_user(handle="someone")
    post = make_post(make_user(), "reported")
    response = api(make_user()).post(
        "/api/v1/reports/", {"reason": "spam", "post_id": post.pk, **extra}, format="json"
    )
    assert_error(response, 400)
    assert not Report.objects.exists()


# --- 14.14: going public accepts pending follow requests ----------------------------------------


def test_going_public_accepts_every_pending_follow_request():
    owner = make_user(private=True, handle="owner")
    requesters = [make_user(), make_user()]
    for requester in requesters:
        assert services.follow_create(follower=requester, followee=owner).status == "requested"
    with after_commit():
        profile_update(user=owner, is_private=False)
    for requester in requesters:
        client = api(requester)
        assert client.get("/api/v1/users/owner/relationship/").json()["following"] is True
        assert client.post("/api/v1/users/owner/follow/").json() == {"status": "following"}
    assert api(owner).get("/api/v1/follow-requests/").json()["results"] == []


# --- 14.15: moderation history outlives the account -----------------------------------------------


def test_deleting_a_user_keeps_reports_and_moderation_actions_about_them():
    from accounts.services.account import account_delete

    bad, reporter, staff = make_user(handle="baduser"), make_user(), StaffUserFactory()
    post = make_post(bad, "spam spam")
    report = services.report_create(reporter=reporter, reason="spam", post_id=post.pk)
    moderation.moderation_hide_post(moderator=staff, post=post, report=report)
    account_delete(user=bad)
    report.refresh_from_db()
    assert report.target_user is None and report.target_handle == "baduser"
    action = ModerationAction.objects.get(report=report)
    assert action.target_user is None and action.target_handle == "baduser"


# --- 14.16: staff edits go through the author's edit service ------------------------------------


def test_staff_editing_a_post_in_the_admin_renders_it_and_keeps_history(client):
    author, named = make_user(), make_user(handle="named")
    post = make_post(author, "old text")
    staff = StaffUserFactory(is_superuser=True)
    client.force_login(staff)
    created = post.created_at
    response = client.post(
        f"/admin/social/post/{post.pk}/change/",
        {
            "author": author.pk,
            "text": "new text for @named #fresh",
            "visibility": "public",
            "content_warning": "",
            "created_at_0": created.strftime("%Y-%m-%d"),
            "created_at_1": created.strftime("%H:%M:%S"),
            "edited_at_0": "",
            "edited_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    post.refresh_from_db()
    assert post.text == "new text for @named #fresh"
    assert 'href="/@named"' in post.html and 'href="/tags/fresh/"' in post.html
    assert PostEdit.objects.filter(post=post, text="old text").exists()
    assert post.mentions.filter(user=named).exists()
