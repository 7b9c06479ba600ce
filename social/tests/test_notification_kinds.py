"""Every notification kind has its switches, and a reporter is told on the site when a moderator
reviewed their report (issue 15): the notification is written with the decision, shown on the
notifications page and in the API, and follows the reporter's settings like every other kind."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from accounts.models import NOTIFICATION_KINDS, User
from accounts.services.email_unsubscribe import KIND_TOPICS
from accounts.tests.factories import staff_member
from outbox.models import OutboundEmail
from social import moderation, services
from social.api import serializers as s
from social.models import Notification, Report
from social.notification_emails import _ACTIONS, OWN_EMAIL_KINDS, notification_emails_send
from social.tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def outcome_emails(user: User) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(to=[user.email], subject__contains="your report was reviewed"))


@pytest.fixture
def reported() -> Report:
    author, reporter = make_user(handle="spammer"), make_user(handle="reporter")
    post = make_post(author, "buy cheap watches")
    return services.report_create(reporter=reporter, reason="spam", post_id=post.pk)


@pytest.fixture
def moderator() -> User:
    return staff_member("Moderation", handle="the_mod")


def test_every_kind_has_its_switches_its_topic_and_its_words():
    assert set(NOTIFICATION_KINDS) == set(Notification.Kind.values)
    assert set(KIND_TOPICS) == set(Notification.Kind.values)
    assert set(_ACTIONS) | OWN_EMAIL_KINDS == set(Notification.Kind.values)


def test_a_hidden_post_tells_the_reporter_on_the_notifications_page_and_in_the_api(reported, moderator):
    reporter = reported.reporter
    moderation.moderation_hide_post(
        moderator=moderator, post=reported.post, report=reported, note="ads again"
    )

    notification = Notification.objects.get(recipient=reporter)
    assert notification.kind == Notification.Kind.REPORT_REVIEWED and notification.actor is None
    assert notification.moderation_action is not None and notification.moderation_action.report == reported
    said = "A moderator reviewed your report about a post by @spammer: we removed the content you reported."
    page = signed_in(reporter).get("/notifications/").content.decode()
    assert said in page
    # No moderator is named, nor their note.
    assert "the_mod" not in page and "ads again" not in page
    assert b"1<span" in signed_in(reporter).get("/notifications/badge/").content

    body = signed_in(reporter).get("/api/v1/notifications/").json()
    [item] = body["results"]
    assert item["kind"] == "report_reviewed" and item["actor"] is None and item["post_id"] is None
    assert item["report"] == {
        "target_handle": "spammer",
        "about_post": True,
        "outcome": "hide",
        "message": said,
    }
    # The API's serializer documents exactly the keys the presenter returns.
    assert set(item) == set(s.NotificationOutputSerializer().fields)
    assert set(item["report"]) == set(s.NotificationReportOutputSerializer().fields)
    # The e-mail still goes, with its own one-click unsubscribe.
    [email] = outcome_emails(reporter)
    assert "removed the content you reported" in email.text
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/settings/notifications/unsubscribe/" in email.headers["List-Unsubscribe"]


def test_a_dismissed_report_says_so_and_closing_again_tells_nothing_more(reported, moderator):
    moderation.moderation_dismiss(moderator=moderator, report=reported, note="not spam")
    moderation.moderation_hide_post(
        moderator=moderator, post=reported.post, report=reported, note="on second look"
    )
    [notification] = Notification.objects.filter(recipient=reported.reporter)
    assert notification.moderation_action.kind == "dismiss"
    page = signed_in(reported.reporter).get("/notifications/").content.decode()
    assert "we found that it does not break the community rules." in page


def test_the_notice_stands_or_falls_with_the_decision(reported, moderator):
    with pytest.raises(RuntimeError), transaction.atomic():
        moderation.moderation_warn_user(moderator=moderator, user=reported.target_user, report=reported)
        raise RuntimeError("the decision is rolled back")
    assert not Notification.objects.filter(recipient=reported.reporter).exists()
    assert Report.objects.get(pk=reported.pk).status == Report.Status.OPEN


def test_the_reporters_switches_stop_the_notice_and_the_email(reported, moderator):
    reporter = reported.reporter
    # E-mails about reviews off: the notice still comes, the e-mail does not.
    services_profile = reporter.profile
    services_profile.notification_email_preferences = {"report_reviewed": False}
    services_profile.save()
    moderation.moderation_resolve(moderator=moderator, report=reported, note="handled")
    assert Notification.objects.filter(recipient=reporter, kind="report_reviewed").exists()
    assert outcome_emails(reporter) == []

    # The kind switched off: neither (an e-mail is only ever for a notification one gets).
    other = services.report_create(reporter=reporter, reason="spam", target_user=make_user(handle="another"))
    services_profile.notification_preferences = {"report_reviewed": False}
    services_profile.notification_email_preferences = {}
    services_profile.save()
    moderation.moderation_dismiss(moderator=moderator, report=other, note="fine")
    assert Notification.objects.filter(recipient=reporter).count() == 1
    assert outcome_emails(reporter) == []


def test_a_report_notice_is_never_in_a_notification_email_or_digest(reported, moderator):
    reporter = reported.reporter
    moderation.moderation_resolve(moderator=moderator, report=reported, note="handled")
    services.like_create(user=make_user(handle="fan"), post_id=make_post(reporter, "mine").pk)
    # One notification e-mail, about the like alone (the outcome has its own e-mail).
    assert notification_emails_send(user_id=reporter.pk) == 1
    assert len(outcome_emails(reporter)) == 1


def test_the_new_kinds_switch_off_through_the_api_too():
    user = make_user(handle="api_user")
    client = Client()
    client.force_login(user)
    response = client.patch(
        "/api/v1/me/",
        {"notification_preferences": {"follow_accepted": False, "report_reviewed": False}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    prefs = response.json()["notification_preferences"]
    assert prefs["follow_accepted"] is False and prefs["report_reviewed"] is False and prefs["like"] is True
