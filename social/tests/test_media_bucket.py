"""Post images and avatars in an S3-compatible bucket (moto's server on loopback, not a mock):
short-lived signed URLs for those who may see the post, public URLs for public posts, objects
moved or removed when the post is hidden or deleted or the account erased, and feeds whose
query count does not grow with images."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from accounts.tests.factories import StaffUserFactory
from accounts.tests.image_factories import image_upload
from config.storage import media_url
from config.tests import s3
from config.tests.s3 import BUCKET
from social import moderation, services
from social.models import PostImage
from social.tests.factories import after_commit, make_follow, make_post, make_user, png_upload

pytestmark = pytest.mark.django_db

# moto's S3 server and a fresh bucket (config/tests/s3.py).
s3_server, bucket = s3.s3_server, s3.bucket


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback)
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def _post_with_images(author, visibility="public", count=1, text="look"):
    images = [services.ImageUpload(png_upload(), f"image {i}") for i in range(count)]
    return make_post(author, text, visibility=visibility, images=images)


def _expires(url: str) -> int:
    return int(parse_qs(urlparse(url).query)["X-Amz-Expires"][0])


def test_a_follower_gets_a_short_lived_signed_url_for_a_followers_only_image(bucket, settings):
    author, follower, stranger = make_user(), make_user(), make_user()
    make_follow(follower, author)
    post = _post_with_images(author, "followers")
    name = PostImage.objects.get(post=post).image.name
    assert _keys(bucket) == {name}

    url = _api(follower).get(f"/api/v1/posts/{post.pk}/").json()["images"][0]["url"]
    assert urlparse(url).path == f"/{BUCKET}/{name}"
    assert _expires(url) == settings.MEDIA_SIGNED_URL_SECONDS
    assert parse_qs(urlparse(url).query)["X-Amz-Signature"]
    assert _status(url) == 200
    # The same post's page shows the same signed URL.
    page = _api(follower).get(f"/posts/{post.pk}/")
    assert url.replace("&", "&amp;").encode() in page.content

    # Nobody else is handed a URL: the post itself is not there for them.
    assert _api(stranger).get(f"/api/v1/posts/{post.pk}/").status_code == 404
    anonymous_page = _api().get(f"/posts/{post.pk}/")
    assert anonymous_page.status_code == 404 and name.encode() not in anonymous_page.content
    # Nor does the local-disk path help: after the same check it redirects to a signed URL.
    old_link = f"/media/{name}"
    assert _api(stranger).get(old_link).status_code == 404
    assert _api().get(old_link).status_code == 404
    redirect = _api(follower).get(old_link)
    assert redirect.status_code == 302 and _status(redirect["Location"]) == 200
    # The object itself is private: without a signature the bucket refuses it... as far as
    # moto goes: it authorises every request (see config/tests/test_storage.py), so what is
    # checked is that the URL handed out is signed and short-lived.


def test_public_posts_use_long_lived_or_cdn_urls_and_avatars_are_public(bucket, settings):
    author = make_user()
    with after_commit():
        profile_update(user=author, avatar=image_upload())
    post = _post_with_images(author, "public")
    stranger = _api(make_user())
    body = stranger.get(f"/api/v1/posts/{post.pk}/").json()
    assert _expires(body["images"][0]["url"]) == settings.MEDIA_PUBLIC_URL_SECONDS
    assert _expires(body["author"]["avatar_url"]) == settings.MEDIA_PUBLIC_URL_SECONDS
    assert _status(body["images"][0]["url"]) == 200 and _status(body["author"]["avatar_url"]) == 200

    settings.MEDIA_PUBLIC_BASE_URL = "https://cdn.example.com/media"
    body = stranger.get(f"/api/v1/posts/{post.pk}/").json()
    name = PostImage.objects.get(post=post).image.name
    assert body["images"][0]["url"] == f"https://cdn.example.com/media/{name}"
    # A followers-only post never goes through the CDN.
    follower = make_user()
    make_follow(follower, author)
    private = _post_with_images(author, "followers")
    url = _api(follower).get(f"/api/v1/posts/{private.pk}/").json()["images"][0]["url"]
    assert "cdn.example.com" not in url and _expires(url) == settings.MEDIA_SIGNED_URL_SECONDS


def test_the_home_feed_signs_each_image_as_the_post_presenter_does(bucket, settings):
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    with after_commit():
        profile_update(user=author, avatar=image_upload())
    followers_only = _post_with_images(author, "followers", count=2)
    public = _post_with_images(author, "public")

    items = {
        item["post"]["id"]: item["post"]
        for item in _api(follower).get("/api/v1/feeds/home/").json()["results"]
    }
    for post_id in (followers_only.pk, public.pk):
        assert items[post_id] == _api(follower).get(f"/api/v1/posts/{post_id}/").json()
    assert [_expires(i["url"]) for i in items[followers_only.pk]["images"]] == [
        settings.MEDIA_SIGNED_URL_SECONDS
    ] * 2
    assert _expires(items[public.pk]["images"][0]["url"]) == settings.MEDIA_PUBLIC_URL_SECONDS
    assert all(_status(i["url"]) == 200 for post in items.values() for i in post["images"])
    assert _status(items[public.pk]["author"]["avatar_url"]) == 200


def test_a_signed_url_lives_as_configured_and_is_renewed_past_half_its_life(bucket, settings):
    settings.MEDIA_SIGNED_URL_SECONDS = 2
    author = make_user()
    name = PostImage.objects.get(post=_post_with_images(author, "followers")).image.name
    first = media_url(name, public=False)
    query = parse_qs(urlparse(first).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - signed_at) < timedelta(seconds=5)
    assert _expires(first) == 2
    # Within half its life the same URL is handed out again (the browser's cache keeps working).
    assert media_url(name, public=False) == first
    time.sleep(1.1)
    renewed = media_url(name, public=False)
    assert renewed != first and _expires(renewed) == 2


def test_hiding_a_post_moves_its_objects_so_urls_already_handed_out_stop_working(bucket):
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    post = _post_with_images(author, "public")
    name = PostImage.objects.get(post=post).image.name
    url = _api(follower).get(f"/api/v1/posts/{post.pk}/").json()["images"][0]["url"]
    assert _status(url) == 200

    with after_commit():
        moderation.moderation_hide_post(moderator=StaffUserFactory(), post=post)

    assert _status(url) == 404
    moved = PostImage.objects.get(post=post).image.name
    assert moved.startswith("withdrawn/") and _keys(bucket) == {moved}
    assert name not in _keys(bucket)
    assert _api(follower).get(f"/media/{moved}").status_code == 404


def test_deleting_a_post_removes_its_objects_from_the_bucket(bucket):
    author = make_user()
    post = _post_with_images(author, "followers", count=2)
    urls = [i["url"] for i in _api(author).get(f"/api/v1/posts/{post.pk}/").json()["images"]]
    assert len(_keys(bucket)) == 2
    with after_commit():
        response = _api(author).delete(f"/api/v1/posts/{post.pk}/")
    assert response.status_code == 204
    assert _keys(bucket) == set()
    assert [_status(url) for url in urls] == [404, 404]


def test_erasing_an_account_removes_every_object_of_it_from_the_bucket(bucket):
    author, other = make_user(), make_user()
    with after_commit():
        profile_update(user=author, avatar=image_upload())
        profile_update(user=other, avatar=image_upload())
    _post_with_images(author, "public", count=2)
    _post_with_images(author, "followers")
    kept = PostImage.objects.get(post=_post_with_images(other, "public")).image.name
    other.profile.refresh_from_db()
    others = {other.profile.avatar.name, other.profile.avatar_small.name, kept}
    assert len(_keys(bucket)) == 2 + 3 + 3

    with after_commit():
        account_delete(user=author)

    assert _keys(bucket) == others


def test_feed_query_counts_do_not_grow_with_images(bucket, django_assert_num_queries):
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    _post_with_images(author, "followers")
    client = _api(follower)
    counts = {}
    for path in ("/api/v1/feeds/home/", f"/api/v1/users/{author.handle}/posts/"):
        client.get(path)  # the session, the user and any first-request caches
        with CaptureQueriesContext(connection) as one:
            assert client.get(path).status_code == 200
        counts[path] = len(one)
    for _ in range(3):
        _post_with_images(author, "followers", count=4)
        _post_with_images(author, "public", count=2)
    for path, expected in counts.items():
        with django_assert_num_queries(expected):
            body = client.get(path).json()
        assert sum(len(item.get("post", item)["images"]) for item in body["results"]) == 1 + 3 * 6
