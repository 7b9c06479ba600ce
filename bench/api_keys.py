"""Benchmark: the cost of API-key authentication per request, against session authentication.

In-process with Django's test client on PostgreSQL and Redis, through the whole middleware and
DRF stack (authentication, scope permission, throttles) to a trivial endpoint, so the two runs
differ only in how the request is authenticated. Reports queries per request, the SQL and plan
of the key lookup, microseconds per request, and whether any password hasher ran.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_keys REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/api_keys.py [--requests 400]

It uses the test database ``test_<name>`` (kept, as pytest --reuse-db does; the first run
creates it) and rolls back everything it writes. Takes a few seconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import BasePasswordHasher  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.settings import api_settings  # noqa: E402

PROBE = "/api/v1/_probe/"
PUBLIC_PROBE = "/api/v1/_probe/public/"


class CountingHasher(BasePasswordHasher):
    """Counts every password hash or check: the key path must never run one."""

    algorithm = "counting"
    calls = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.calls += 1
        return False

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.calls += 1
        return f"counting${salt}${password}"

    def safe_summary(self, encoded: str) -> dict[str, str]:
        return {}


def timed(client: Client, n: int, path: str = PROBE, **headers: str) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, **headers)
        samples.append((time.perf_counter() - start) * 1e6)
        assert response.status_code == 200, response.content
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--other-keys", type=int, default=5000, help="keys of other users in the table")
    args = parser.parse_args()

    # The throttles stay on (they are part of every request's cost); only their budgets are
    # raised (integrations.throttling.RequestRateThrottle reads them on every request).
    api_settings.DEFAULT_THROTTLE_RATES["user"] = "1000000/min"
    logging.getLogger("relay.access").setLevel(logging.WARNING)
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    cache.clear()

    from accounts.tests.factories import UserFactory
    from integrations import keys
    from integrations.models import ApiKey
    from integrations.services import api_key_issue

    with (
        override_settings(
            ROOT_URLCONF="integrations.tests.urls",
            PASSWORD_HASHERS=["bench.api_keys.CountingHasher"],
        ),
        transaction.atomic(),
    ):
        owner = UserFactory()  # the counting hasher makes its password instant
        issued = api_key_issue(user=owner, name="bench", scopes=["posts:read"])
        # Other users' keys, so the lookup runs against a table of realistic size.
        filler_user = UserFactory()
        expires = timezone.now() + timezone.timedelta(days=90)
        ApiKey.objects.bulk_create(
            ApiKey(
                user=filler_user,
                name="filler",
                public_id=keys.new_public_id(),
                secret_hash="0" * 64,
                scopes=["posts:read"],
                expires_at=expires,
            )
            for _ in range(args.other_keys)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE integrations_apikey")
        # The per-key throttle allows the plan's requests per minute; lift it for the run.
        from integrations import throttling

        throttling._limits[owner.pk] = (time.monotonic() + 3600, 10**9)

        key_client = Client()
        session_client = Client()
        session_client.force_login(owner)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued.token}"}

        # Warm up both paths (first use writes last_used and the new address once).
        timed(key_client, 20, **bearer)
        timed(session_client, 20)

        # Django empties the query log when a request starts: copy each capture at once.
        with CaptureQueriesContext(connection) as capture:
            key_client.get(PROBE, **bearer)
        key_queries = list(capture.captured_queries)
        with CaptureQueriesContext(connection) as capture:
            session_client.get(PROBE)
        session_queries = list(capture.captured_queries)
        key_sql = key_queries[0]["sql"] if key_queries else ""
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + key_sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())

        CountingHasher.calls = 0
        key_us, session_us, bare_us = [], [], []
        for _ in range(5):  # interleaved rounds so load drift hits all three alike
            key_us += timed(key_client, args.requests // 5, **bearer)
            session_us += timed(session_client, args.requests // 5)
            bare_us += timed(Client(), args.requests // 5, PUBLIC_PROBE)
        key_hasher_calls = CountingHasher.calls

        transaction.set_rollback(True)

    from django.contrib.auth.hashers import Argon2PasswordHasher

    start = time.perf_counter()
    for _ in range(1000):
        keys.hash_token(issued.token)
    sha_us = (time.perf_counter() - start) * 1e6 / 1000
    argon = Argon2PasswordHasher()
    encoded = argon.encode(issued.token, argon.salt())
    start = time.perf_counter()
    for _ in range(5):
        argon.verify(issued.token, encoded)
    argon_us = (time.perf_counter() - start) * 1e6 / 5

    def row(name: str, samples: list[float], queries: int) -> str:
        samples = sorted(samples)
        p50 = statistics.median(samples)
        p90 = samples[int(len(samples) * 0.9)]
        return f"| {name} | {queries} | {p50:,.0f} | {p90:,.0f} | {statistics.mean(samples):,.0f} |"

    print(f"{len(key_us)} requests each, {args.other_keys} other keys in the table, PostgreSQL + Redis\n")
    print("| authentication | DB queries / request | p50 µs | p90 µs | mean µs |")
    print("|---|---|---|---|---|")
    print(row("API key (Bearer)", key_us, len(key_queries)))
    print(row("session (cached_db)", session_us, len(session_queries)))
    print(row("none (same view, no auth, no throttles)", bare_us, 0))
    base = statistics.median(bare_us)
    print(
        f"\nauthentication + scope check + throttles, over the bare view (p50): "
        f"key {statistics.median(key_us) - base:,.0f} µs, session {statistics.median(session_us) - base:,.0f} µs"
    )
    print(f"hashing a key with SHA-256: {sha_us:.1f} µs; checking a password with Argon2: {argon_us:,.0f} µs")
    print(f"\nkey path: password hasher calls over {len(key_us)} requests = {key_hasher_calls}")
    print(f"\nkey lookup SQL:\n{key_sql}\n\nplan:\n{plan}")
    print("\nsession path queries:")
    for q in session_queries:
        print(" ", q["sql"][:160])


if __name__ == "__main__":
    main()
