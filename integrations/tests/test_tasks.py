"""The expiry warning: one e-mail per key, 7 days before it expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from integrations.services import api_key_revoke
from integrations.tasks import api_key_expiry_warnings_send
from integrations.tests.factories import age_key, issue_key

pytestmark = pytest.mark.django_db


def test_a_key_expiring_within_7_days_gets_one_warning(user, django_capture_on_commit_callbacks):
    soon = issue_key(user, name="Deploy bot", expires_in_days=6).api_key
    issue_key(user, name="Later", expires_in_days=30)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_key_expiry_warnings_send.delay().get() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Deploy bot" in message.subject
    assert soon.display_prefix in message.body
    assert "/settings/api-keys/" in message.body
    # Running again (another beat tick, or a retry) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert api_key_expiry_warnings_send.delay().get() == 0
    assert len(mail.outbox) == 1
    soon.refresh_from_db()
    assert soon.expiry_warning_sent_at is not None


def test_revoked_expired_and_rotated_keys_get_no_warning(
    user, other_user, django_capture_on_commit_callbacks
):
    from accounts.services import user_deactivate
    from integrations.services import api_key_rotate

    revoked = issue_key(user, name="Revoked", expires_in_days=3).api_key
    api_key_revoke(api_key=revoked)
    expired = issue_key(user, name="Expired", expires_in_days=3).api_key
    age_key(expired, expires_at=timezone.now() - timedelta(hours=1))
    rotated = issue_key(user, name="Rotated", expires_in_days=3).api_key
    api_key_rotate(api_key=rotated, grace_hours=1)  # the replacement lives 3 days too
    inactive_owner = issue_key(other_user, name="Inactive", expires_in_days=3).api_key
    user_deactivate(user=other_user, reason="test")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_key_expiry_warnings_send.delay().get() == 1
    # Only the rotated key's replacement, which is active, is warned about.
    assert len(mail.outbox) == 1
    assert rotated.rotated_to.display_prefix in mail.outbox[0].body
    assert "Inactive" not in mail.outbox[0].subject
    assert inactive_owner.pk


def test_the_task_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["integrations-api-key-expiry-warnings"]
    assert entry["task"] == "integrations.tasks.api_key_expiry_warnings_send"
