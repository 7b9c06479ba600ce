"""Moderation through the real admin: the buttons on a report's page, notes, undoing, who is
told what, strikes, refusals per role, the per-reporter limit, and the read-only relationship
lists for abuse investigations."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.admin_forms import FormFields
from accounts.tests.factories import StaffUserFactory, staff_member
from audit.models import AuditEntry
from config.errors import RateLimitedError
from outbox.models import OutboundEmail
from social import services
from social.models import ModerationAction, Post, Report
from social.tests.factories import make_follow, make_post, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/social/report/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def emails_to(user: User) -> list[str]:
    return [f"{e.subject}\n{e.text}" for e in OutboundEmail.objects.filter(to=[user.email]).order_by("pk")]


@pytest.fixture
def reported():
    author, reporter = make_user(handle="spammer"), make_user(handle="reporter")
    post = make_post(author, "buy cheap watches")
    return services.report_create(reporter=reporter, reason="spam", comment="ads", post_id=post.pk)


def press(client: Client, report: Report, action: str, note: str = "selling watches"):
    """Submits the report page's moderation form as a browser would, with one button."""
    page = client.get(f"{CHANGELIST}{report.pk}/change/").content.decode()
    form = page[page.index('id="moderate"') :]
    fields = FormFields()
    fields.feed(form)
    data = {name: values for name, values in fields.data.items() if name != "note"}
    return client.post(
        f"{CHANGELIST}{report.pk}/moderate/", {**data, "note": note, "action": action}, follow=True
    )


def test_the_report_page_hides_the_post_with_a_note_and_tells_author_and_reporter(reported):
    moderator = signed_in(staff_member("Moderation", handle="mod"))
    page = moderator.get(f"{CHANGELIST}{reported.pk}/change/").content.decode()
    for label in ("Hide the post", "Warn the author", "Suspend the author", "Dismiss", "Lift the suspension"):
        assert label in page
    assert "Strikes against @spammer: <strong>0</strong>" in page

    response = press(moderator, reported, "hide_content")
    assert "Hide the post: done." in response.content.decode()
    post = Post.objects.get(pk=reported.post_id)
    assert post.hidden_at is not None
    reported.refresh_from_db()
    assert reported.status == Report.Status.RESOLVED
    action = ModerationAction.objects.get(kind="hide")
    assert action.note == "selling watches" and action.report == reported
    assert any("hidden" in e and "selling watches" in e for e in emails_to(post.author))
    assert any("removed the content you reported" in e for e in emails_to(reported.reporter))
    entry = AuditEntry.objects.get(action="moderation.hide")
    assert entry.reason == "selling watches" and entry.target_user == post.author
    assert (
        "Strikes against @spammer: <strong>1</strong>"
        in moderator.get(f"{CHANGELIST}{reported.pk}/change/").content.decode()
    )

    # Undo: the post is back and its author told.
    press(moderator, reported, "unhide_content", note="appeal: it was a joke")
    assert Post.objects.get(pk=post.pk).hidden_at is None
    assert any("visible again" in e and "appeal" in e for e in emails_to(post.author))
    # The reporter was told once, when the report closed.
    assert len([e for e in emails_to(reported.reporter) if "your report was reviewed" in e]) == 1


def test_a_button_without_a_note_does_nothing(reported):
    moderator = signed_in(staff_member("Moderation"))
    response = press(moderator, reported, "dismiss", note="  ")
    assert "Write a note" in response.content.decode()
    assert Report.objects.get(pk=reported.pk).status == Report.Status.OPEN
    assert not ModerationAction.objects.exists()


def test_suspend_and_unsuspend_from_the_report_page(reported):
    moderator = signed_in(staff_member("Moderation"))
    press(moderator, reported, "suspend_user", note="repeat spam")
    author = User.objects.get(pk=reported.target_user_id)
    assert not author.is_active
    assert any("suspended" in e and "repeat spam" in e for e in emails_to(author))
    assert any("suspended the account you reported" in e for e in emails_to(reported.reporter))

    press(moderator, reported, "unsuspend_user", note="appeal accepted")
    assert User.objects.get(pk=author.pk).is_active
    assert any("no longer suspended" in e for e in emails_to(author))
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "moderation.suspend",
        "moderation.unsuspend",
    ]


def test_a_view_only_staff_member_cannot_moderate(reported):
    viewer = signed_in(staff_member(permissions=["social.view_report"]))
    page = viewer.get(f"{CHANGELIST}{reported.pk}/change/").content.decode()
    assert "You may look at reports but not act on them." in page
    assert "Suspend the author" not in page
    for action in ("suspend_user", "hide_content", "dismiss"):
        viewer.post(f"{CHANGELIST}{reported.pk}/moderate/", {"action": action, "note": "x"})
        viewer.post(CHANGELIST, {"action": action, "_selected_action": [reported.pk], "reason": "x"})
    assert User.objects.get(pk=reported.target_user_id).is_active
    assert Post.objects.get(pk=reported.post_id).hidden_at is None
    assert Report.objects.get(pk=reported.pk).status == Report.Status.OPEN
    assert not ModerationAction.objects.exists() and not AuditEntry.objects.exists()


def test_report_handling_without_the_suspend_permission_cannot_suspend(reported):
    handler = signed_in(staff_member(permissions=["social.view_report", "social.change_report"]))
    page = handler.get(f"{CHANGELIST}{reported.pk}/change/").content.decode()
    assert "Warn the author" in page and "Suspend the author" not in page
    response = press(handler, reported, "suspend_user")
    assert "You do not have the permission" in response.content.decode()
    assert User.objects.get(pk=reported.target_user_id).is_active


def test_suspending_a_superuser_takes_a_superuser():
    boss, reporter = StaffUserFactory(handle="boss"), make_user()
    report = services.report_create(reporter=reporter, reason="other", target_user=boss)
    moderator = signed_in(staff_member("Moderation"))
    response = moderator.post(
        CHANGELIST, {"action": "suspend_user", "_selected_action": [report.pk], "reason": "x"}, follow=True
    )
    assert "Only a superuser may do this to a superuser." in response.content.decode()
    assert User.objects.get(pk=boss.pk).is_active
    signed_in(StaffUserFactory()).post(
        CHANGELIST, {"action": "suspend_user", "_selected_action": [report.pk], "reason": "x"}
    )
    assert not User.objects.get(pk=boss.pk).is_active


def test_list_actions_need_a_reason_and_use_it_as_the_note(reported):
    moderator = signed_in(staff_member("Moderation"))
    moderator.post(CHANGELIST, {"action": "warn_user", "_selected_action": [reported.pk]})
    assert not ModerationAction.objects.exists()
    moderator.post(
        CHANGELIST, {"action": "warn_user", "_selected_action": [reported.pk], "reason": "be civil"}
    )
    assert ModerationAction.objects.get().note == "be civil"
    listing = moderator.get(CHANGELIST).content.decode()
    assert '<td class="field-strikes">1</td>' in listing


def test_post_list_hide_and_restore_need_change_post(reported):
    post = Post.objects.get(pk=reported.post_id)
    viewer = signed_in(staff_member(permissions=["social.view_post"]))
    viewer.post("/admin/social/post/", {"action": "hide", "_selected_action": [post.pk], "reason": "x"})
    assert Post.objects.get(pk=post.pk).hidden_at is None
    moderator = signed_in(staff_member("Moderation"))
    moderator.post("/admin/social/post/", {"action": "hide", "_selected_action": [post.pk], "reason": "spam"})
    assert Post.objects.get(pk=post.pk).hidden_at is not None
    moderator.post("/admin/social/post/", {"action": "unhide", "_selected_action": [post.pk], "reason": "ok"})
    assert Post.objects.get(pk=post.pk).hidden_at is None


def test_reports_are_rate_limited_per_reporter(settings):
    settings.SOCIAL_RATE_LIMITS = {**settings.SOCIAL_RATE_LIMITS, "report": "2/h"}
    reporter, other_reporter = make_user(), make_user()
    targets = [make_user() for _ in range(3)]
    services.report_create(reporter=reporter, reason="spam", target_user=targets[0])
    services.report_create(reporter=reporter, reason="spam", target_user=targets[1])
    with pytest.raises(RateLimitedError):
        services.report_create(reporter=reporter, reason="spam", target_user=targets[2])
    services.report_create(reporter=other_reporter, reason="spam", target_user=targets[2])
    # The page says so.
    client = signed_in(reporter)
    response = client.post(f"/@{targets[2].handle}/report/", {"reason": "spam"})
    assert response.status_code == 429
    assert Report.objects.filter(reporter=reporter).count() == 2


def test_follows_blocks_mutes_and_notifications_are_browsable_read_only():
    alice, bob = make_user(handle="alice_x"), make_user(handle="bob_x")
    make_follow(alice, bob)
    services.block_create(blocker=bob, blocked=make_user(handle="troll_x"))
    moderator = signed_in(staff_member("Moderation"))
    for model, text, rows in (
        ("follow", "alice_x", 1),
        ("block", "troll_x", 1),
        ("notification", "bob_x", 1),
        ("mute", "", 0),
    ):
        listing = moderator.get(f"/admin/social/{model}/", {"q": text})
        assert listing.status_code == 200, model
        assert len(listing.context["cl"].result_list) == rows, model
        assert moderator.get(f"/admin/social/{model}/add/").status_code == 403
    superuser = signed_in(StaffUserFactory())
    assert superuser.get("/admin/social/block/add/").status_code == 403
