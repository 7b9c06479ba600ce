"""Post images on the local disk (the embedded default): served only to whoever may see the post,
gone when the post is hidden or deleted or the account erased. Avatars stay public."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.services.account import account_delete
from accounts.services.profile import profile_update
from accounts.tests.factories import StaffUserFactory
from accounts.tests.image_factories import image_upload
from social import moderation, services
from social.models import PostImage
from social.tests.factories import after_commit, make_follow, make_post, make_user, png_upload

pytestmark = pytest.mark.django_db


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _post_with_image(author, visibility="public", text="look"):
    post = make_post(author, text, visibility=visibility, images=[services.ImageUpload(png_upload(), "red")])
    image = PostImage.objects.get(post=post)
    return post, image, f"{settings.MEDIA_URL}{image.image.name}"


def _file(image: PostImage) -> Path:
    return Path(settings.MEDIA_ROOT) / image.image.name


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_followers_only_image_is_for_followers_the_author_and_the_mentioned():
    author, follower, stranger, mentioned = make_user(), make_user(), make_user(), make_user()
    make_follow(follower, author)
    post, image, url = _post_with_image(author, "followers", text=f"hi @{mentioned.handle}")

    # The follower's page links the image, and the link answers with the file.
    page = _client(follower).get(f"/posts/{post.pk}/")
    assert url.encode() in page.content
    response = _client(follower).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert _body(response) == _file(image).read_bytes()
    assert "private" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert _client(author).get(url).status_code == 200
    # A mentioned user sees a followers-only post (the visibility rule), so its images too.
    assert _client(mentioned).get(url).status_code == 200

    # Someone who has the URL but may not see the post gets the answer for "no such file".
    assert _client(stranger).get(url).status_code == 404
    assert _client().get(url).status_code == 404


def test_a_private_accounts_images_are_for_its_followers_only():
    author, follower, stranger = make_user(private=True), make_user(), make_user()
    make_follow(follower, author)
    _, _, url = _post_with_image(author, "public")
    assert _client(follower).get(url).status_code == 200
    assert _client(stranger).get(url).status_code == 404
    assert _client().get(url).status_code == 404


def test_a_public_post_image_is_for_everyone_but_not_across_a_block():
    author, blocked = make_user(), make_user()
    _, _, url = _post_with_image(author, "public")
    response = _client().get(url)
    assert response.status_code == 200
    assert "max-age=86400" in response["Cache-Control"]
    with after_commit():
        services.block_create(blocker=author, blocked=blocked)
    assert _client(blocked).get(url).status_code == 404


def test_a_hidden_posts_images_stop_being_served_and_move_out_of_reach():
    author, follower = make_user(), make_user()
    make_follow(follower, author)
    post, image, url = _post_with_image(author, "public")
    original = _file(image)
    assert _client().get(url).status_code == 200

    with after_commit():
        moderation.moderation_hide_post(moderator=StaffUserFactory(), post=post)

    for viewer in (None, follower, author):
        assert _client(viewer).get(url).status_code == 404
    # The file is kept for the moderators, under a new name nobody was ever given.
    image.refresh_from_db()
    assert image.image.name.startswith("withdrawn/")
    assert not original.exists() and _file(image).exists()
    assert _client(author).get(f"{settings.MEDIA_URL}{image.image.name}").status_code == 404


def test_a_restored_posts_images_are_served_again_under_their_new_names():
    author = make_user()
    post, image, url = _post_with_image(author, "public")
    moderator = StaffUserFactory()
    with after_commit():
        moderation.moderation_hide_post(moderator=moderator, post=post)
    post.refresh_from_db()
    moderation.moderation_unhide_post(moderator=moderator, post=post, note="appeal upheld")

    shown = _client().get(f"/posts/{post.pk}/").content.decode()
    image.refresh_from_db()
    new_url = f"{settings.MEDIA_URL}{image.image.name}"
    assert new_url in shown and url not in shown
    assert _body(_client().get(new_url)) == _file(image).read_bytes()
    assert _client().get(url).status_code == 404


def test_a_deleted_posts_images_are_removed_from_disk():
    author = make_user()
    post, image, url = _post_with_image(author, "public")
    assert _file(image).exists()
    with after_commit():
        services.post_delete(user=author, post_id=post.pk)
    assert not _file(image).exists()
    assert not PostImage.objects.filter(post=post).exists()
    assert _client(author).get(url).status_code == 404


def test_a_suspended_authors_images_stop_being_served():
    author = make_user()
    _, _, url = _post_with_image(author, "public")
    moderation.moderation_suspend_user(moderator=StaffUserFactory(), user=author)
    assert _client().get(url).status_code == 404


def test_erasing_an_account_removes_all_its_media_from_disk():
    author, replier = make_user(), make_user()
    with after_commit():
        profile_update(user=author, avatar=image_upload())
    author.profile.refresh_from_db()
    avatars = [
        Path(settings.MEDIA_ROOT) / author.profile.avatar.name,
        Path(settings.MEDIA_ROOT) / author.profile.avatar_small.name,
    ]
    post, own, _ = _post_with_image(author, "followers")
    reply = make_post(
        replier,
        "nice",
        reply_to_id=make_post(author, "thread").pk,
        images=[services.ImageUpload(png_upload())],
    )
    files = [*avatars, _file(own), _file(PostImage.objects.get(post=reply))]
    assert all(path.exists() for path in files)

    with after_commit():
        account_delete(user=author)

    assert not any(path.exists() for path in files)
    assert not PostImage.objects.exists()


def test_avatars_stay_public_and_no_path_through_them_reaches_a_post_image():
    author = make_user()
    with after_commit():
        profile_update(user=author, avatar=image_upload())
    author.profile.refresh_from_db()
    assert _client().get(author.profile.avatar_small.url).status_code == 200
    _, image, _ = _post_with_image(author, "followers")
    name = image.image.name
    for path in (
        f"/media/avatars/../{name}",
        f"/media/avatars/%2e%2e/{name}",
        f"/media/avatars/{author.pk}/../../{name}",
        f"/media//{name}",
        f"/media/./{name}",
    ):
        assert _client().get(path).status_code in {400, 404}, path


def test_the_web_server_can_stream_the_file_once_the_view_has_checked(settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    author, stranger = make_user(), make_user()
    _, image, url = _post_with_image(author, "followers")
    response = _client(author).get(url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{image.image.name}"
    assert response["Content-Type"] == "image/png" and response.content == b""
    refused = _client(stranger).get(url)
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_writing_to_an_image_url_is_refused():
    author = make_user()
    _, _, url = _post_with_image(author, "public")
    assert _client(author).post(url).status_code == 405


def test_post_images_tidy_applies_the_rules_to_images_stored_before_them():
    author = make_user()
    deleted, deleted_image, _ = _post_with_image(author, "public")
    hidden, hidden_image, _ = _post_with_image(author, "public")
    live, live_image, live_url = _post_with_image(author, "public")
    # As the database was before: soft-deleted and hidden posts that kept their images.
    type(deleted).objects.filter(pk=deleted.pk).update(deleted_at=deleted.created_at)
    type(hidden).objects.filter(pk=hidden.pk).update(hidden_at=hidden.created_at)
    old_files = [_file(deleted_image), _file(hidden_image)]

    with after_commit():
        call_command("post_images_tidy", stdout=io.StringIO())

    assert not any(path.exists() for path in old_files)
    assert not PostImage.objects.filter(post=deleted).exists()
    assert PostImage.objects.get(post=hidden).image.name.startswith("withdrawn/")
    assert _file(live_image).exists() and _client().get(live_url).status_code == 200
    with after_commit():
        call_command("post_images_tidy", stdout=io.StringIO())  # again: nothing left to do
    assert PostImage.objects.count() == 2
