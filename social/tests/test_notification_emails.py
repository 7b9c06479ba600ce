"""Notification e-mails as the recipient sees them: delivered over real SMTP (aiosmtpd), the
first at once, the rest in one digest per interval, each with a one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone

from accounts.models import NotificationEmailState
from outbox.models import OutboundEmail
from social import services
from social.models import Notification
from social.notification_emails import notification_digests_send_due, notification_emails_send
from social.tests.factories import after_commit, make_post, make_user

pytestmark = pytest.mark.django_db


def _like(user, post) -> None:
    with after_commit():
        services.like_create(user=user, post_id=post.pk)


def _follow(follower, followee) -> None:
    with after_commit():
        services.follow_create(follower=follower, followee=followee)


def _unsubscribe_path(message) -> str:
    header = str(message["List-Unsubscribe"]).strip()
    match = re.fullmatch(r"<https?://[^/]+(/settings/notifications/unsubscribe/[^>]+/)>", header)
    assert match, header
    return match.group(1)


def _body(message) -> str:
    return message.get_content()


def _digest_due(user) -> object:
    state = NotificationEmailState.objects.get(user=user)
    assert state.due_at is not None
    return state.due_at


def test_the_first_notification_is_emailed_at_once_with_one_click_unsubscribe_headers(smtp_server):
    ann = make_user(handle="ann", email="ann@example.com")
    bob = make_user(handle="bob")
    _follow(bob, ann)

    [message] = smtp_server.messages
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "@bob followed you"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _unsubscribe_path(message) in _body(message)
    assert "e-mails about new followers" in _body(message)
    assert "/@bob" in _body(message)


def test_more_notifications_within_the_interval_arrive_as_one_digest(smtp_server, settings):
    settings.NOTIFICATION_EMAIL_DIGEST_MINUTES = 15
    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann, "My holiday pictures")
    fans = [make_user(handle=f"fan{i}") for i in range(3)]
    _like(fans[0], post)
    assert len(smtp_server.messages) == 1  # the first one, at once

    _like(fans[1], post)
    _follow(fans[2], ann)
    assert len(smtp_server.messages) == 1  # the others wait for the digest
    due = _digest_due(ann)
    assert due - timezone.now() > timedelta(minutes=14)

    assert notification_digests_send_due(now=due - timedelta(seconds=1)) == 0
    with after_commit():
        assert notification_digests_send_due(now=due) == 1
    digest = smtp_server.messages[1]
    assert digest["Subject"] == "2 new notifications on Relay"
    body = _body(digest)
    assert '@fan1 liked your post: "My holiday pictures"' in body
    assert "@fan2 followed you" in body
    assert "fan0" not in body  # already e-mailed
    # A digest of several kinds unsubscribes from all of them in one click.
    assert "Stop these e-mails" in body
    assert NotificationEmailState.objects.get(user=ann).due_at is None

    # The sweep and a replayed task send nothing more.
    with after_commit():
        assert notification_digests_send_due(now=due + timedelta(hours=1)) == 0
        assert notification_emails_send(user_id=ann.pk, now=due + timedelta(hours=1)) == 0
    assert len(smtp_server.messages) == 2


def test_what_was_read_on_the_site_meanwhile_is_not_emailed(smtp_server):
    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann)
    _like(make_user(), post)
    _like(make_user(), post)
    due = _digest_due(ann)
    services.notification_mark_all_read(user=ann)

    with after_commit():
        assert notification_digests_send_due(now=due) == 0
    assert len(smtp_server.messages) == 1
    assert NotificationEmailState.objects.get(user=ann).due_at is None


@pytest.mark.parametrize("switch", ["email_off", "kind_off", "kind_unsubscribed", "unverified", "suspended"])
def test_no_email_when_the_recipient_does_not_want_or_cannot_take_it(smtp_server, switch):
    ann = make_user(handle="ann", email="ann@example.com")
    profile = ann.profile
    if switch == "email_off":
        profile.email_notifications = False
    elif switch == "kind_off":
        profile.notification_preferences = {"follow": False}
    elif switch == "kind_unsubscribed":
        profile.notification_email_preferences = {"follow": False}
    elif switch == "unverified":
        EmailAddress.objects.filter(user=ann).update(verified=False)
    profile.save()
    bob = make_user(handle="bob")
    if switch == "suspended":
        # Suspended after the notification was made, before its e-mail went out.
        with after_commit():
            services.follow_create(follower=bob, followee=ann)
            ann.is_active = False
            ann.save(update_fields=["is_active"])
    else:
        _follow(bob, ann)

    assert smtp_server.messages == []
    assert OutboundEmail.objects.count() == 0
    # The notification on the site does not depend on e-mails.
    expected = 0 if switch == "kind_off" else 1
    assert Notification.objects.filter(recipient=ann).count() == expected


def test_the_unsubscribe_link_asks_first_then_stops_that_kind_only(smtp_server):
    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann)
    _like(make_user(handle="bob"), post)
    path = _unsubscribe_path(smtp_server.messages[0])
    client = Client()  # no session: the link is the authority

    page = client.get(path)
    assert page.status_code == 200
    assert "Stop e-mails about likes to ann@example.com?" in page.content.decode()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    ann.profile.refresh_from_db()
    assert ann.profile.wants_notification_email("like")  # a link preview changes nothing

    done = client.post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    ann.profile.refresh_from_db()
    assert not ann.profile.wants_notification_email("like")
    assert ann.profile.wants_notification_email("follow")
    assert ann.profile.wants_notification("like")  # still shown on the site


def test_a_mail_clients_one_click_post_works_without_cookies_or_csrf_token(smtp_server, settings):
    settings.NOTIFICATION_EMAIL_DIGEST_MINUTES = 0
    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann)
    _like(make_user(handle="bob"), post)
    path = _unsubscribe_path(smtp_server.messages[0])

    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200

    _like(make_user(handle="carl"), post)
    _follow(make_user(handle="dora"), ann)
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert subjects == ["@bob liked your post", "@dora followed you"]
    assert Notification.objects.filter(recipient=ann, kind="like").count() == 2


def test_unsubscribe_from_all_turns_off_the_settings_switch_and_can_be_undone(smtp_server):
    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann)
    _like(make_user(handle="bob"), post)
    body = _body(smtp_server.messages[0])
    match = re.search(r"Stop all notification e-mails: https?://[^/]+(\S+)", body)
    assert match, body
    client = Client()

    response = client.post(match.group(1))
    assert "no longer send all notification e-mails" in response.content.decode()
    ann.profile.refresh_from_db()
    assert ann.profile.email_notifications is False
    settings_page = Client()
    settings_page.force_login(ann)
    assert 'name="email_notifications"' in settings_page.get("/settings/notifications/").content.decode()

    response = client.post(match.group(1), {"subscribe": "1"})
    assert "You are subscribed again" in response.content.decode()
    ann.profile.refresh_from_db()
    assert ann.profile.email_notifications is True


@pytest.mark.parametrize("tamper", ["forged", "cut"])
def test_a_damaged_or_forged_link_is_refused(smtp_server, tamper):
    ann = make_user(handle="ann", email="ann@example.com")
    _follow(make_user(), ann)
    path = _unsubscribe_path(smtp_server.messages[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    if tamper == "forged":
        bad = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    else:
        bad = path.replace(token, token[: len(token) // 2])

    for response in (Client().get(bad), Client().post(bad)):
        assert response.status_code == 404
        assert "This unsubscribe link is not valid." in response.content.decode()
    ann.profile.refresh_from_db()
    assert ann.profile.email_notifications is True


def test_a_long_digest_lists_the_latest_and_counts_the_rest(smtp_server, settings):
    from social.notification_emails import DIGEST_MAX_ITEMS

    ann = make_user(handle="ann", email="ann@example.com")
    post = make_post(ann)
    _like(make_user(), post)
    for _ in range(DIGEST_MAX_ITEMS + 2):
        _like(make_user(), post)
    with after_commit():
        assert notification_digests_send_due(now=_digest_due(ann)) == 1
    digest = smtp_server.messages[1]
    assert digest["Subject"] == f"{DIGEST_MAX_ITEMS + 2} new notifications on Relay"
    assert "…and 2 more." in _body(digest)
    assert _body(digest).count("liked your post") == DIGEST_MAX_ITEMS
    # One kind only: the header stops that kind, the text offers all too.
    assert "Stop e-mails about likes" in _body(digest)
    assert "Stop all notification e-mails" in _body(digest)


def test_the_task_of_a_deleted_account_sends_nothing(smtp_server):
    from accounts.services.account import account_delete

    ann = make_user(handle="ann", email="ann@example.com")
    user_id = ann.pk
    account_delete(user=ann)

    assert notification_emails_send(user_id=user_id) == 0
    assert smtp_server.messages == []
