"""In-process cost of a signed-in request: queries, Redis commands and time, no concurrency.

Runs the bare ``/bench/ping``, the same signed in, and the home feed through the Django test
client (whole middleware and DRF stack, production settings but DEBUG off) against the data of
bench/social_generate.py, and prints each request's SQL and Redis commands (pipelined commands,
such as the throttle's INCR+EXPIRE, are one round trip and not listed) and the median time.
``--profile`` adds a cProfile of the feed.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_social REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/social_inprocess.py [--requests 300] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.social_settings")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 60)
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
os.environ["API_THROTTLE_USER"] = "100000000/min"

import django  # noqa: E402

django.setup()

import redis.connection  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402

commands: list[str] = []
_send = redis.connection.AbstractConnection.send_command


def _counting_send(self: Any, *args: Any, **kwargs: Any) -> Any:
    commands.append(str(args[0]) if args else "?")
    return _send(self, *args, **kwargs)


redis.connection.AbstractConnection.send_command = _counting_send  # type: ignore[method-assign]  # counting round trips in the bench only


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    user = User.objects.filter(handle__startswith="bench").order_by("pk").first()
    if user is None:
        sys.exit("No bench users: run bench/social_generate.py first.")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    signed, bare = Client(), Client()
    signed.cookies["sessionid"] = store.session_key

    for label, path, client in (
        ("trivial, no cookie", "/bench/ping", bare),
        ("trivial, signed in", "/bench/ping", signed),
        ("trivial DRF, signed in", "/bench/api-ping", signed),
        ("home feed, signed in", "/api/v1/feeds/home/", signed),
    ):
        for _ in range(20):
            assert client.get(path).status_code == 200  # noqa: S101 - a benchmark's sanity check
        commands.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        print(f"{label}: {len(queries)} queries, Redis {commands}")
        for query in queries.captured_queries:
            print("    ", " ".join(query["sql"].split())[:120])
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        print(f"    median {statistics.median(times) * 1000:.2f} ms")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            signed.get("/api/v1/feeds/home/")
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_ROWS", "40"))
        )


if __name__ == "__main__":
    main()
