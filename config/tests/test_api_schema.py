"""The OpenAPI document answers every visitor, even when the first ones arrive together."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# A fresh interpreter: drf-spectacular resolves its extensions on a process's first schema build,
# so only a process that has never built one shows the race (this test process has).
_FIRST_BUILDS_AT_ONCE = """
import threading
import django
django.setup()
from django.test import Client

barrier = threading.Barrier(8)
statuses = []

def fetch():
    client = Client(raise_request_exception=False)
    barrier.wait()
    statuses.append(client.get("/api/schema/?format=json").status_code)

threads = [threading.Thread(target=fetch) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sorted(statuses))
"""


def test_eight_visitors_loading_the_schema_at_once_on_a_new_worker_all_get_it():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "1"}
    result = subprocess.run(  # noqa: S603  (our own interpreter and a constant script)
        [sys.executable, "-c", _FIRST_BUILDS_AT_ONCE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == str([200] * 8), result.stderr[-2000:]


def test_the_schema_is_the_same_document_on_every_request(client):
    first = client.get("/api/schema/?format=json")
    second = client.get("/api/schema/?format=json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert "/api/v1/security-events/" in first.json()["paths"]
