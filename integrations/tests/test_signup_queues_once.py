"""Issue 14.9: a verified sign-up queues the Stripe-customer task exactly once (allauth sends
``email_confirmed`` and ``email_changed`` in that one step; only the first queues it)."""

from __future__ import annotations

import re

import pytest
from celery.signals import task_prerun
from django.core import mail

from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-sign-up-password-42"


def test_a_verified_sign_up_queues_the_stripe_customer_task_once(
    client, stripe_local, django_capture_on_commit_callbacks
):
    runs: list[dict] = []

    def record(sender=None, task=None, kwargs=None, **extra):
        if task is not None and task.name == "integrations.tasks.stripe_customer_sync":
            runs.append(dict(kwargs or {}))

    task_prerun.connect(record, weak=False, dispatch_uid="test-signup-queues-once")
    try:
        response = client.post(
            "/accounts/signup/",
            {"email": "una@example.com", "username": "una", "password1": PASSWORD, "password2": PASSWORD},
        )
        assert response.status_code == 302
        assert runs == []  # an unverified address gets no customer
        link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[-1].body).group(0)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(link).status_code == 302
    finally:
        task_prerun.disconnect(dispatch_uid="test-signup-queues-once")
    user = User.objects.get(email="una@example.com")
    assert runs == [{"user_id": user.pk}]
