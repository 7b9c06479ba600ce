"""The stand-in is development-only: production settings never install or import it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys, django
django.setup()
from django.conf import settings
print("installed" if "stripe_local" in settings.INSTALLED_APPS else "absent")
print("imported" if any(m == "stripe_local" or m.startswith("stripe_local.") for m in sys.modules) else "clean")
"""


def test_production_settings_neither_install_nor_import_the_stand_in():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_TESTING", "PYTEST_CURRENT_TEST", "PYTEST_VERSION"}
    }
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_TESTING="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="production-probe-" + "x" * 48,
        DJANGO_ALLOWED_HOSTS="relay.example.com",
        STRIPE_TEST_SECRET_KEY="sk_test_productionprobe0000000000000",
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["absent", "clean"]


def test_the_production_image_leaves_the_stand_in_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "stripe_local" in ignored
