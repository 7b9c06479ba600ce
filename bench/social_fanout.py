"""Fan-out for very-followed authors (issue 17, item 6), on data from bench/social_generate.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_fanout REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/social_generate.py --users 10000 --posts 1000000 --follows-per-user 100 \
        --likes 1000000
    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/social_fanout.py

On top of the generated data it adds ``--fans`` users (100,000) who all follow one author, the
"big" one, and makes ten authors very followed (the big one and nine more with ``--fans-each``
followers, above ``FEED_FANOUT_MAX_FOLLOWERS``): their posts are pulled (their own entries marked,
no copies in their followers' feeds, as if they had been above the threshold all along), and
the first 16 bench users, the clients of bench/social_feed.py, follow all ten. Then:

1. push: one Celery worker (``--concurrency 1``, consuming every declared queue, as the
   Procfile's does) with the threshold raised above 100,000, so the big author's post is pushed
   in chunks. Measured: the author's post request (in process, through the API and the whole
   middleware stack, the task queued on commit), the time until all 100,000 followers' feeds
   hold it, and, while it runs, the end-to-end latency of ordinary users' posts (each a small
   fan-out task on the default queue, queued behind the big one's chunks) every 0.5 s;
2. pull: the worker restarted with the default threshold: the big author's post is pulled;
   measured: post requests, the time until a follower's home feed (the read-time merge) shows
   it, and that nothing was pushed;
3. read: bench/social_feed.py (bare JSON and the home feed API, 16 clients, gunicorn) for
   readers who follow the ten pulled authors, then again after they unfollow them (the same
   readers' feed without any merge): p95 and the ratio between the two in one run.

The worker is started and stopped by this script (by its process group); nothing else is
touched. Prints a markdown summary for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_bench_fanout")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
os.environ.setdefault("CACHE_KEY_PREFIX", "fanoutbench")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(60))
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"  # posts queue their fan-out for the worker
os.environ.setdefault("SOCIAL_RATE_POST", "10000/m")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from social.feeds.home import home_feed_page  # noqa: E402
from social.models import Follow, Post, PulledAuthor, TimelineEntry  # noqa: E402

FAN_PREFIX = "fanoutfan"
UNUSABLE = "!"  # noqa: S105 - no password: the fans never sign in
READERS = 16  # bench/social_feed.py's clients: the first 16 bench users


def sql(statement: str, params: list[object] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def prepare(args: argparse.Namespace) -> tuple[User, list[User], list[User], User]:
    """The fans, the ten very-followed authors (pulled) and the readers following them."""
    bench = list(User.objects.filter(handle__startswith="bench").order_by("pk"))
    if len(bench) < 1000:
        sys.exit("Generate the data first (bench/social_generate.py).")
    stars, readers, ordinary = bench[-10:], bench[:READERS], bench[500]
    have = User.objects.filter(handle__startswith=FAN_PREFIX).count()
    if have < args.fans:
        print(f"Creating {args.fans - have:,} fans", flush=True)
        for start in range(have, args.fans, 5000):
            User.objects.bulk_create(
                [
                    User(email=f"{FAN_PREFIX}{i}@example.com", handle=f"{FAN_PREFIX}{i}", password=UNUSABLE)
                    for i in range(start, min(start + 5000, args.fans))
                ]
            )
    fans = list(User.objects.filter(handle__startswith=FAN_PREFIX).order_by("pk")[: args.fans])
    fan_ids = [fan.pk for fan in fans]
    star_ids = [star.pk for star in stars]
    print(
        "Follows: fans -> the big author, nine more authors above the threshold, readers -> all ten",
        flush=True,
    )
    sql("SET session_replication_role = replica")
    try:
        sql("DELETE FROM social_follow WHERE follower_id = ANY(%s)", [fan_ids])
        sql(
            "INSERT INTO social_follow (follower_id, followee_id, created_at)"
            " SELECT f, %s, now() FROM unnest(%s::bigint[]) f",
            [star_ids[0], fan_ids],
        )
        for number, star in enumerate(star_ids[1:]):
            start = number * args.fans_each % max(1, len(fan_ids) - args.fans_each)
            sql(
                "INSERT INTO social_follow (follower_id, followee_id, created_at)"
                " SELECT f, %s, now() FROM unnest(%s::bigint[]) f ON CONFLICT DO NOTHING",
                [star, fan_ids[start : start + args.fans_each]],
            )
        follow_stars(readers, stars)
        # Pulled all along: their own entries marked, no copies anywhere else.
        sql("DELETE FROM social_timelineentry WHERE actor_id = ANY(%s) AND owner_id <> actor_id", [star_ids])
        sql(
            "UPDATE social_timelineentry SET pulled = true WHERE owner_id = ANY(%s) AND actor_id = owner_id"
            " AND reposter_id IS NULL",
            [star_ids],
        )
        sql("DELETE FROM social_timelineentry WHERE owner_id = ANY(%s)", [fan_ids])
        PulledAuthor.objects.bulk_create(
            [PulledAuthor(author_id=pk) for pk in star_ids], ignore_conflicts=True
        )
    finally:
        sql("SET session_replication_role = DEFAULT")
    sql("VACUUM (ANALYZE) social_follow")
    sql("VACUUM (ANALYZE) social_timelineentry")
    return stars[0], stars, readers, ordinary


def follow_stars(readers: list[User], stars: list[User]) -> None:
    Follow.objects.bulk_create(
        [Follow(follower=reader, followee=star) for reader in readers for star in stars],
        ignore_conflicts=True,
    )


class Worker:
    """One Celery worker (concurrency 1) on every declared queue, started in its own group."""

    def __init__(self, **env: str) -> None:
        self.process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "config",
                "worker",
                "--concurrency=1",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"fanout-bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                sys.exit("The worker did not start.")

    def stop(self) -> None:
        """A warm shutdown (the running task finishes), then its whole group if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def post(client: Client, text: str) -> tuple[int, float]:
    """Posts through the API; returns the post id and the request's milliseconds."""
    started = time.perf_counter()
    response = client.post("/api/v1/posts/", {"text": text}, content_type="application/json")
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.content
    return response.json()["id"], elapsed


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entries(post_id: int) -> int:
    return TimelineEntry.objects.filter(post_id=post_id).count()


def give_up_after(started: float, seconds: float = 300) -> None:
    if time.perf_counter() - started > seconds:
        sys.exit(f"Gave up after {seconds:.0f} s: see the worker (is it consuming every queue?).")


def push_phase(big: User, fans: int, ordinary: User) -> dict[str, float]:
    """The big author's post pushed in chunks, with ordinary posts queued behind it."""
    celery_app.control.purge()
    ordinary_followers = Follow.objects.filter(followee=ordinary).count()
    worker = Worker(FEED_FANOUT_MAX_FOLLOWERS=str(10 * fans))
    try:
        big_client, small_client = signed_in(big), signed_in(ordinary)
        post(small_client, "warm-up")  # the process's first request imports and connects: not counted
        time.sleep(1)
        post_id, request_ms = post(big_client, f"pushed to {fans:,} followers")
        queued = time.perf_counter()
        waits: list[float] = []
        probe_requests: list[float] = []
        next_probe, next_count, done_at = queued, queued, None
        while done_at is None:
            give_up_after(queued)
            now = time.perf_counter()
            if now >= next_probe:
                probe_id, probe_ms = post(small_client, "an ordinary post")
                probe_requests.append(probe_ms)
                probe_queued = time.perf_counter()
                while entries(probe_id) < ordinary_followers + 1:
                    give_up_after(queued)
                    time.sleep(0.005)
                waits.append(time.perf_counter() - probe_queued)
                next_probe = probe_queued + 0.5
            if now >= next_count:  # counting 100,000 rows: not too often, it competes with the worker
                if entries(post_id) >= fans + 1:
                    done_at = time.perf_counter()
                next_count = now + 0.25
            time.sleep(0.01)
        last_fan = User.objects.filter(handle__startswith=FAN_PREFIX).order_by("-pk").first()
        assert last_fan is not None
        shown = home_feed_page(user=last_fan, size=1).items()
        assert shown and shown[0]["post"]["id"] == post_id, "the last follower's feed does not show it"
    finally:
        worker.stop()
    return {
        "request_ms": request_ms,
        "all_feeds_s": done_at - queued,
        "small_wait_max_s": max(waits),
        "small_wait_median_s": statistics.median(waits),
        "small_probes": len(waits),
        "small_request_ms_median": statistics.median(probe_requests),
        "chunks": -(-fans // settings.FEED_FANOUT_CHUNK_SIZE),
    }


def pull_phase(big: User, samples: int, ordinary: User) -> dict[str, float]:
    """The big author's posts pulled: visible through the read-time merge, nothing pushed. Each
    is followed by an ordinary author's post: the reference request, in the same run."""
    celery_app.control.purge()
    worker = Worker()
    reference = []
    try:
        client, small_client = signed_in(big), signed_in(ordinary)
        post(client, "warm-up")
        reader = User.objects.filter(handle__startswith=FAN_PREFIX).order_by("-pk").first()
        assert reader is not None
        times, visible = [], []
        for number in range(samples):
            post_id, request_ms = post(client, f"pulled post {number}")
            queued = time.perf_counter()
            while True:
                shown = home_feed_page(user=reader, size=1).items()
                if shown and shown[0]["post"]["id"] == post_id:
                    break
                give_up_after(queued)
                time.sleep(0.005)
            visible.append(time.perf_counter() - queued)
            times.append(request_ms)
            assert TimelineEntry.objects.filter(post_id=post_id).count() == 1  # the author's own only
            reference.append(post(small_client, "an ordinary post")[1])
    finally:
        worker.stop()
    return {
        "request_ms_median": statistics.median(times),
        "request_ms_max": max(times),
        "reference_ms_median": statistics.median(reference),
        "visible_s_median": statistics.median(visible),
        "visible_s_max": max(visible),
    }


def feed_run(args: argparse.Namespace, label: str) -> str:
    """bench/social_feed.py's bare and home-feed runs, as they are (not modified here)."""
    command = [
        sys.executable,
        str(ROOT / "bench/social_feed.py"),
        "--endpoints",
        "bare",
        "feed",
        "--rounds",
        str(args.rounds),
        "--duration",
        str(args.duration),
        "--port",
        str(args.port),
    ]
    print(f"\n## read: {label}", flush=True)
    env = {**os.environ, "BILLING_ENABLED": "0"}  # its server runs production settings, without Stripe keys
    out = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True).stdout  # noqa: S603
    print(out, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fans", type=int, default=100_000, help="followers of the big author")
    parser.add_argument("--fans-each", type=int, default=12_000, help="followers of the nine others")
    parser.add_argument("--pull-samples", type=int, default=10)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-read", action="store_true")
    parser.add_argument("--skip-push", action="store_true")
    parser.add_argument("--port", type=int, default=8791, help="for bench/social_feed.py's gunicorn")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL (set DATABASE_URL).")
    big, stars, readers, ordinary = prepare(args)
    posts = Post.objects.count()
    print(f"posts={posts:,}, load average {os.getloadavg()}", flush=True)

    push: dict[str, float] = {}
    if not args.skip_push:
        push = push_phase(big, args.fans, ordinary)
        print(f"push: {push}, load average {os.getloadavg()}", flush=True)
    pull = pull_phase(big, args.pull_samples, ordinary)
    print(f"pull: {pull}, load average {os.getloadavg()}", flush=True)
    if not args.skip_read:
        feed_run(args, "readers follow ten pulled authors (merged at read time)")
        Follow.objects.filter(follower__in=readers, followee__in=stars).delete()
        feed_run(args, "the same readers, no pulled author followed (reference)")
        follow_stars(readers, stars)
    if not push:
        return
    print(
        f"\n| measure | figure | target |\n|---|---|---|\n"
        f"| post request, {args.fans:,} followers (push run) | {push['request_ms']:.1f} ms | < 50 ms |\n"
        f"| post request, pulled (median / max of {args.pull_samples}) | {pull['request_ms_median']:.1f} / "
        f"{pull['request_ms_max']:.1f} ms | < 50 ms |\n"
        f"| post request, ordinary author (reference, same run: median during the push / pull runs) | "
        f"{push['small_request_ms_median']:.1f} / {pull['reference_ms_median']:.1f} ms | |\n"
        f"| pushed to all {args.fans:,} feeds, 1 worker, {push['chunks']} chunks | {push['all_feeds_s']:.1f} s "
        f"| <= 15 s |\n"
        f"| an ordinary post's fan-out behind it (max / median of {push['small_probes']}) | "
        f"{push['small_wait_max_s']:.2f} / {push['small_wait_median_s']:.2f} s | <= 1 s |\n"
        f"| pulled post in a follower's feed (median / max) | {pull['visible_s_median']:.3f} / "
        f"{pull['visible_s_max']:.3f} s | |\n"
        f"posts={posts:,}, load average at the end {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
