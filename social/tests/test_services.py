from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from accounts.services import user_deactivate
from accounts.tests.factories import StaffUserFactory
from config.errors import ApplicationError, NotFoundError, PermissionDeniedError, RateLimitedError
from social import moderation, selectors, services
from social.models import (
    Block,
    Follow,
    FollowRequest,
    Like,
    Mention,
    ModerationAction,
    Notification,
    Post,
    PostEdit,
    PostImage,
    TimelineEntry,
)
from social.tests.factories import (
    after_commit,
    fake_image_upload,
    make_follow,
    make_post,
    make_user,
    png_upload,
)

pytestmark = pytest.mark.django_db


# --- Follows ---------------------------------------------------------------------------------


def test_follow_public_account_and_notify():
    alice, bob = make_user(), make_user()
    assert services.follow_create(follower=alice, followee=bob).status == "following"
    assert Follow.objects.filter(follower=alice, followee=bob).exists()
    assert Notification.objects.filter(recipient=bob, actor=alice, kind="follow").count() == 1
    # Idempotent
    assert services.follow_create(follower=alice, followee=bob).status == "following"
    assert Follow.objects.count() == 1


def test_follow_private_account_makes_a_request_the_owner_answers():
    alice, carol = make_user(), make_user(private=True)
    assert services.follow_create(follower=alice, followee=carol).status == "requested"
    assert not Follow.objects.exists()
    assert Notification.objects.filter(recipient=carol, kind="follow_request").exists()
    services.follow_request_accept(owner=carol, requester=alice)
    assert Follow.objects.filter(follower=alice, followee=carol).exists()
    assert not FollowRequest.objects.exists()


def test_reject_follow_request():
    alice, carol = make_user(), make_user(private=True)
    services.follow_create(follower=alice, followee=carol)
    services.follow_request_reject(owner=carol, requester=alice)
    assert not Follow.objects.exists() and not FollowRequest.objects.exists()
    with pytest.raises(NotFoundError):
        services.follow_request_reject(owner=carol, requester=alice)


def test_self_follow_refused():
    alice = make_user()
    with pytest.raises(ApplicationError) as exc:
        services.follow_create(follower=alice, followee=alice)
    assert exc.value.code == "self_follow"


def test_owner_removes_follower_and_their_feed_forgets():
    alice, bob = make_user(), make_user()
    make_follow(alice, bob)
    make_post(bob, "bob's post")
    assert TimelineEntry.objects.filter(owner=alice).count() == 1
    services.follower_remove(owner=bob, follower=alice)
    assert not Follow.objects.exists()
    assert not TimelineEntry.objects.filter(owner=alice).exists()
    with pytest.raises(NotFoundError):
        services.follower_remove(owner=bob, follower=alice)


def test_block_ends_follows_both_ways_and_prevents_interaction():
    alice, bob = make_user(), make_user()
    make_follow(alice, bob)
    make_follow(bob, alice)
    post = make_post(bob, "hello")
    services.block_create(blocker=alice, blocked=bob)
    assert not Follow.objects.exists()
    assert not TimelineEntry.objects.filter(owner=alice, post=post).exists()
    with pytest.raises(NotFoundError):
        services.follow_create(follower=bob, followee=alice)
    with pytest.raises(NotFoundError):
        services.like_create(user=alice, post_id=post.pk)
    with pytest.raises(NotFoundError):
        services.post_create(author=alice, text="reply", reply_to_id=post.pk)
    alice_post = make_post(alice, "mine")
    with pytest.raises(NotFoundError):
        services.like_create(user=bob, post_id=alice_post.pk)
    # A mention across a block is neither recorded nor notified.
    make_post(bob, f"hey @{alice.handle}")
    assert not Mention.objects.filter(user=alice).exists()
    assert not Notification.objects.filter(recipient=alice).exists()


def test_mute_hides_notifications_and_expires():
    alice, bob = make_user(), make_user()
    services.mute_create(muter=alice, muted=bob, duration=timedelta(hours=1))
    services.follow_create(follower=bob, followee=alice)
    assert not Notification.objects.filter(recipient=alice).exists()
    mute = services.mute_create(muter=alice, muted=bob, duration=timedelta(seconds=-1))  # already expired
    assert mute.expires_at is not None
    post = make_post(alice, "hi")
    services.like_create(user=bob, post_id=post.pk)
    assert Notification.objects.filter(recipient=alice, kind="like").exists()


# --- Posts ------------------------------------------------------------------------------------


def test_post_create_renders_mentions_tags_and_notifies():
    alice, bob = make_user(), make_user()
    post = make_post(alice, f"hi @{bob.handle} and @nobody_here #Django <b>x</b>")
    assert f'href="/@{bob.handle}"' in post.html
    assert "@nobody_here" in post.html and "/@nobody_here" not in post.html
    assert "&lt;b&gt;" in post.html
    assert list(post.hashtags.values_list("name", flat=True)) == ["django"]
    assert Notification.objects.filter(recipient=bob, kind="mention", post=post).exists()
    assert Mention.objects.filter(post=post).count() == 1


@pytest.mark.parametrize("text", ["", "   \n "])
def test_empty_post_refused(text):
    with pytest.raises(ApplicationError) as exc:
        make_post(make_user(), text)
    assert exc.value.code == "empty_post"


def test_too_long_post_refused():
    with pytest.raises(ApplicationError) as exc:
        make_post(make_user(), "x" * 501)
    assert exc.value.code == "post_too_long"
    assert "text" in exc.value.fields
    make_post(make_user(), "x" * 500)


def test_post_with_images(settings):
    alice = make_user()
    post = make_post(alice, "pics", images=[services.ImageUpload(png_upload(), "a red square")])
    image = PostImage.objects.get(post=post)
    assert image.alt_text == "a red square"
    assert (image.width, image.height) == (64, 48)


def test_fake_image_refused_and_nothing_saved():
    with pytest.raises(ApplicationError) as exc:
        make_post(make_user(), "pic", images=[services.ImageUpload(fake_image_upload())])
    assert exc.value.code == "invalid_image"
    assert not Post.objects.exists()


def test_too_many_images_refused():
    with pytest.raises(ApplicationError) as exc:
        make_post(make_user(), "pics", images=[services.ImageUpload(png_upload()) for _ in range(5)])
    assert exc.value.code == "too_many_images"


def test_edit_keeps_history_and_notifies_new_mentions():
    alice, bob = make_user(), make_user()
    post = make_post(alice, "first")
    services.post_edit(user=alice, post_id=post.pk, text=f"second @{bob.handle}")
    post.refresh_from_db()
    assert post.text.startswith("second") and post.edited_at is not None
    assert list(PostEdit.objects.filter(post=post).values_list("text", flat=True)) == ["first"]
    assert Notification.objects.filter(recipient=bob, kind="mention").exists()
    with pytest.raises(PermissionDeniedError):
        services.post_edit(user=bob, post_id=post.pk, text="hijack")


def test_delete_is_soft_and_hides_everywhere():
    alice, bob = make_user(), make_user()
    make_follow(bob, alice)
    post = make_post(alice, "oops")
    services.post_delete(user=alice, post_id=post.pk)
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert not TimelineEntry.objects.filter(post=post).exists()
    with pytest.raises(NotFoundError):
        selectors.post_get_for_user(user=bob, post_id=post.pk)
    with pytest.raises(NotFoundError):
        services.post_create(author=bob, text="reply", reply_to_id=post.pk)


def test_pin_one_post():
    alice = make_user()
    first, second = make_post(alice, "one"), make_post(alice, "two")
    services.post_pin(user=alice, post_id=first.pk)
    services.post_pin(user=alice, post_id=second.pk)
    assert list(Post.objects.filter(is_pinned=True).values_list("pk", flat=True)) == [second.pk]
    reply = make_post(alice, "r", reply_to_id=first.pk)
    with pytest.raises(ApplicationError):
        services.post_pin(user=alice, post_id=reply.pk)


def test_replies_thread_and_counts():
    alice, bob = make_user(), make_user()
    root = make_post(alice, "root")
    reply = make_post(bob, "reply", reply_to_id=root.pk)
    nested = make_post(alice, "nested", reply_to_id=reply.pk)
    assert nested.root_id == root.pk and nested.reply_to_id == reply.pk
    root.refresh_from_db()
    assert root.reply_count == 1
    assert Notification.objects.filter(recipient=alice, kind="reply", post=reply).exists()
    assert Notification.objects.filter(recipient=bob, kind="reply", post=nested).exists()
    rows = selectors.post_list_thread(viewer=bob, post=root)
    assert [(r["id"], r["depth"]) for r in rows] == [(reply.pk, 0), (nested.pk, 1)]


def test_reply_to_invisible_post_is_not_found():
    alice, bob = make_user(), make_user(private=True)
    post = make_post(bob, "private account")
    with pytest.raises(NotFoundError):
        services.post_create(author=alice, text="hi", reply_to_id=post.pk)
    with pytest.raises(NotFoundError):
        services.post_create(author=alice, text="hi", reply_to_id=999999)


def test_likes_are_idempotent_and_counted():
    alice, bob = make_user(), make_user()
    post = make_post(alice, "like me")
    services.like_create(user=bob, post_id=post.pk)
    services.like_create(user=bob, post_id=post.pk)
    post.refresh_from_db()
    assert post.like_count == 1 and Like.objects.count() == 1
    assert Notification.objects.filter(recipient=alice, kind="like").count() == 1
    services.like_delete(user=bob, post_id=post.pk)
    services.like_delete(user=bob, post_id=post.pk)
    post.refresh_from_db()
    assert post.like_count == 0


def test_like_a_reply():
    alice, bob = make_user(), make_user()
    reply = make_post(bob, "reply", reply_to_id=make_post(alice, "root").pk)
    services.like_create(user=alice, post_id=reply.pk)
    reply.refresh_from_db()
    assert reply.like_count == 1


def test_repost_fans_out_and_only_public_posts():
    alice, bob, carol = make_user(), make_user(), make_user()
    make_follow(carol, bob)
    post = make_post(alice, "share me")
    with after_commit():
        services.repost_create(user=bob, post_id=post.pk)
        services.repost_create(user=bob, post_id=post.pk)
    entry = TimelineEntry.objects.get(owner=carol)
    assert entry.reposter_id == bob.pk and entry.post_id == post.pk
    post.refresh_from_db()
    assert post.repost_count == 1
    followers_only = make_post(alice, "friends", visibility="followers")
    make_follow(bob, alice)
    with pytest.raises(ApplicationError):
        services.repost_create(user=bob, post_id=followers_only.pk)
    services.repost_delete(user=bob, post_id=post.pk)
    assert not TimelineEntry.objects.filter(owner=carol).exists()


def test_notification_preferences_are_honoured():
    alice, bob = make_user(), make_user()
    alice.profile.notification_preferences = {"like": False}
    alice.profile.save()
    post = make_post(alice, "x")
    services.like_create(user=bob, post_id=post.pk)
    services.follow_create(follower=bob, followee=alice)
    assert list(Notification.objects.values_list("kind", flat=True)) == ["follow"]


def test_mark_read():
    alice, bob = make_user(), make_user()
    services.follow_create(follower=bob, followee=alice)
    services.like_create(user=bob, post_id=make_post(alice, "x").pk)
    assert selectors.notification_unread_count(user=alice) == 2
    first = Notification.objects.filter(recipient=alice).first()
    services.notification_mark_read(user=alice, notification_id=first.pk)
    assert selectors.notification_unread_count(user=alice) == 1
    with pytest.raises(NotFoundError):
        services.notification_mark_read(user=bob, notification_id=first.pk)
    services.notification_mark_all_read(user=alice)
    assert selectors.notification_unread_count(user=alice) == 0


# --- Rate limits, suspension, moderation ----------------------------------------------------


def test_posting_rate_limit(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "2/m"}
    alice = make_user()
    make_post(alice, "1")
    make_post(alice, "2")
    with pytest.raises(RateLimitedError):
        make_post(alice, "3")


def test_follow_rate_limit(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "follow": "1/m"}
    alice = make_user()
    services.follow_create(follower=alice, followee=make_user())
    with pytest.raises(RateLimitedError):
        services.follow_create(follower=alice, followee=make_user())


def test_reply_rate_limit(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "reply": "1/m"}
    alice = make_user()
    post = make_post(alice, "root")
    make_post(alice, "r1", reply_to_id=post.pk)
    with pytest.raises(RateLimitedError):
        make_post(alice, "r2", reply_to_id=post.pk)


def test_suspended_user_cannot_post_and_disappears():
    alice, bob = make_user(), make_user()
    post = make_post(alice, "hi")
    user_deactivate(user=alice, reason="test")
    with pytest.raises(PermissionDeniedError):
        make_post(alice, "again")
    with pytest.raises(NotFoundError):
        selectors.post_get_for_user(user=bob, post_id=post.pk)


def test_moderation_actions_are_recorded():
    staff, alice, bob = StaffUserFactory(), make_user(), make_user()
    post = make_post(alice, "spam spam")
    report = services.report_create(reporter=bob, reason="spam", comment="obvious", post_id=post.pk)
    assert report.target_user == alice
    moderation.moderation_hide_post(moderator=staff, post=post, report=report)
    with pytest.raises(NotFoundError):
        selectors.post_get_for_user(user=alice, post_id=post.pk)
    report.refresh_from_db()
    assert report.status == "resolved"
    with after_commit():
        moderation.moderation_warn_user(moderator=staff, user=alice, note="be nice")
    assert mail.outbox[-1].to == [alice.email]
    moderation.moderation_suspend_user(moderator=staff, user=alice)
    alice.refresh_from_db()
    assert not alice.is_active
    other = services.report_create(reporter=bob, reason="other", target_user=make_user())
    moderation.moderation_dismiss(moderator=staff, report=other)
    other.refresh_from_db()
    assert other.status == "dismissed"
    assert list(ModerationAction.objects.order_by("created_at").values_list("kind", "moderator")) == [
        ("hide", staff.pk),
        ("warn", staff.pk),
        ("suspend", staff.pk),
        ("dismiss", staff.pk),
    ]
    with pytest.raises(PermissionDeniedError):
        moderation.moderation_dismiss(moderator=bob, report=other)


def test_report_bad_input():
    alice = make_user()
    with pytest.raises(ApplicationError):
        services.report_create(reporter=alice, reason="nonsense", target_user=make_user())
    with pytest.raises(ApplicationError):
        services.report_create(reporter=alice, reason="spam")
    with pytest.raises(ApplicationError):
        services.report_create(reporter=alice, reason="spam", target_user=alice)


def test_block_removes_existing_block_pair_once():
    alice, bob = make_user(), make_user()
    services.block_create(blocker=alice, blocked=bob)
    services.block_create(blocker=alice, blocked=bob)
    assert Block.objects.count() == 1
    services.block_delete(blocker=alice, blocked=bob)
    assert not Block.objects.exists()


def test_timeline_trim_keeps_the_newest_entries(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "post": "100/m"}
    alice, bob = make_user(), make_user()
    make_follow(bob, alice)
    posts = [make_post(alice, f"p{i}") for i in range(5)]
    assert services.timeline_trim(keep=2) == 6  # 3 of alice's own entries, 3 of bob's
    assert set(TimelineEntry.objects.filter(owner=bob).values_list("post_id", flat=True)) == {
        posts[3].pk,
        posts[4].pk,
    }
    from social.tasks import timeline_trim

    assert timeline_trim.delay().get() == 0


def test_notification_groups():
    alice = make_user()
    post = make_post(alice, "popular")
    for _ in range(3):
        services.like_create(user=make_user(), post_id=post.pk)
    services.follow_create(follower=make_user(), followee=alice)
    groups = list(selectors.notification_group_list(user=alice))
    assert {(g["kind"], g["post_id"], g["count"]) for g in groups} == {
        ("like", post.pk, 3),
        ("follow", None, 1),
    }


def test_timeline_rebuild_command():
    from io import StringIO

    from django.core.management import call_command

    alice, bob = make_user(), make_user()
    make_follow(bob, alice)
    make_post(alice, "one")
    TimelineEntry.objects.all().delete()
    out = StringIO()
    call_command("timeline_rebuild", bob.handle, stdout=out)
    assert TimelineEntry.objects.filter(owner=bob).count() == 1
    assert "Wrote 1" in out.getvalue()


def test_timeline_trim_is_on_the_beat_schedule(settings):
    assert settings.CELERY_BEAT_SCHEDULE["social-timeline-trim"]["task"] == "social.tasks.timeline_trim"
