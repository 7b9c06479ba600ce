"""Production and Stripe keys (issue 17, item 2): with debug off, billing needs a real Stripe key
or ``BILLING_ENABLED=0``; the local stand-in is never what production talks to.

Each case starts the real settings in a fresh interpreter (settings are read once per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, uuid
import django
django.setup()
import stripe
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from io import StringIO

# Static files are not collected in a test checkout; their manifest is not what this probes.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()

client = Client(HTTP_HOST="relay.example.com")
answers = {}
for path in ("/billing/pricing/", "/billing/", "/billing/success/", "/api/v1/billing/plans/",
             f"/stripe/webhook/{uuid.uuid4()}/"):
    response = client.post(path, secure=True) if path.startswith("/stripe/") else client.get(path, secure=True)
    answers[path] = [response.status_code, response.content.decode()[:4000]]
out = StringIO()
call_command("billing_webhook_setup", stdout=out)
print(json.dumps({
    "answers": answers,
    "api_base": stripe.api_base,
    "use_local": settings.STRIPE_USE_LOCAL,
    "beat": sorted(settings.CELERY_BEAT_SCHEDULE),
    "stand_in_loaded": any(m.startswith("stripe_local") for m in sys.modules),
    "webhook_setup": out.getvalue(),
}))
"""

SETTINGS_ONLY = """
import django
django.setup()
import stripe
from django.conf import settings
print(stripe.api_base, getattr(settings, "STRIPE_API_HOST", ""), settings.STRIPE_USE_LOCAL)
"""


def _production_env(settings, **extra: str) -> dict[str, str]:
    database = settings.DATABASES["default"]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_TESTING", "DJANGO_DEBUG", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"}
        and not key.startswith("STRIPE_")
        and key != "BILLING_ENABLED"
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_TESTING="0",
        DJANGO_SECRET_KEY="billing-probe-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="relay.example.com",
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        DJANGO_LOG_LEVEL="ERROR",
        **extra,
    )
    return env


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own interpreter and a constant script)
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_without_stripe_keys_refuses_to_start(settings):
    result = _run(SETTINGS_ONLY, _production_env(settings))
    assert result.returncode != 0
    assert "Billing is enabled but no Stripe secret key is set" in result.stderr
    assert "STRIPE_TEST_SECRET_KEY" in result.stderr and "BILLING_ENABLED=0" in result.stderr


def test_live_mode_without_the_live_key_refuses_to_start(settings):
    env = _production_env(settings, STRIPE_LIVE_MODE="1", STRIPE_TEST_SECRET_KEY="sk_test_" + "a" * 24)
    result = _run(SETTINGS_ONLY, env)
    assert result.returncode != 0 and "STRIPE_LIVE_SECRET_KEY" in result.stderr


def test_production_never_uses_the_stand_in(settings):
    asked = _run(
        SETTINGS_ONLY,
        _production_env(settings, STRIPE_USE_LOCAL="1", STRIPE_TEST_SECRET_KEY="sk_test_" + "a" * 24),
    )
    assert asked.returncode != 0 and "STRIPE_USE_LOCAL is for development only" in asked.stderr
    with_key = _run(SETTINGS_ONLY, _production_env(settings, STRIPE_TEST_SECRET_KEY="sk_test_" + "a" * 24))
    assert with_key.returncode == 0, with_key.stderr
    api_base, *rest = with_key.stdout.split()
    assert api_base == "https://api.stripe.com" and rest == ["False"]  # no STRIPE_API_HOST at all
    disabled = _run(SETTINGS_ONLY, _production_env(settings, BILLING_ENABLED="0"))
    assert disabled.stdout.split() == ["https://api.stripe.com", "False"], disabled.stderr


@pytest.mark.django_db
def test_production_without_billing_says_billing_is_not_available(settings):
    result = _run(PROBE, _production_env(settings, BILLING_ENABLED="0"))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    answers = probe["answers"]
    for page in ("/billing/pricing/", "/billing/", "/billing/success/"):
        status, body = answers[page]
        assert status == 404 and "Billing is not available" in body, (page, status)
    status, body = answers["/api/v1/billing/plans/"]
    assert status == 404 and json.loads(body)["error"]["code"] == "billing_unavailable"
    webhook = next(path for path in answers if path.startswith("/stripe/"))
    assert answers[webhook][0] == 404  # no webhook URL
    assert probe["api_base"] == "https://api.stripe.com" and not probe["use_local"]
    assert not probe["stand_in_loaded"]
    assert (
        "billing-reconcile" not in probe["beat"]
        and "integrations-stripe-customers-backfill" not in probe["beat"]
    )
    assert "Billing is disabled" in probe["webhook_setup"]


def test_production_refuses_a_plain_http_stripe_host_unless_rehearsing_on_loopback(settings):
    """The production rehearsal (scripts/rehearse-production) points the real processes at the
    stand-in over HTTP; a deployment cannot do so by a stray STRIPE_API_HOST."""
    key = {"STRIPE_TEST_SECRET_KEY": "sk_test_" + "a" * 24}
    stand_in = "http://127.0.0.1:12111"
    refused = [
        _production_env(settings, STRIPE_API_HOST=stand_in, **key),  # no rehearsal flag
        _production_env(
            settings, STRIPE_API_HOST="http://stripe.internal:12111", PRODUCTION_REHEARSAL="1", **key
        ),
        _production_env(
            settings,
            STRIPE_API_HOST=stand_in,
            PRODUCTION_REHEARSAL="1",
            STRIPE_LIVE_MODE="1",
            STRIPE_LIVE_SECRET_KEY="sk_live_" + "a" * 24,
        ),
    ]
    for env in refused:
        result = _run(SETTINGS_ONLY, env)
        assert result.returncode != 0, env
        assert "STRIPE_API_HOST must be an https:// URL" in result.stderr
    # The flag alone changes nothing: Stripe itself.
    flag_only = _run(SETTINGS_ONLY, _production_env(settings, PRODUCTION_REHEARSAL="1", **key))
    assert flag_only.stdout.split() == ["https://api.stripe.com", "False"], flag_only.stderr
    rehearsal = _run(
        SETTINGS_ONLY, _production_env(settings, STRIPE_API_HOST=stand_in, PRODUCTION_REHEARSAL="1", **key)
    )
    assert rehearsal.returncode == 0, rehearsal.stderr
    assert rehearsal.stdout.split() == [stand_in, stand_in, "False"]  # and the stand-in app is not installed
