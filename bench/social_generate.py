"""Benchmark data for the social feed: users, posts, follows, likes and home timelines.

Full scale (issue 6): 10,000 users, 1,000,000 posts, 1,000,000 follows, 5,000,000 likes:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_social REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/social_generate.py --users 10000 --posts 1000000 --follows-per-user 100 \
        --likes 5000000

The 10k-post comparison (bench/RESULTS.md): ``--users 10000 --posts 10000 --follows-per-user 100
--likes 50000``, into another database so both scales can be measured in turn.

It migrates the database named by DATABASE_URL (never the development one by default), empties
the social tables and the bench users, then loads everything with ``INSERT ... SELECT
generate_series`` in a few statements. Foreign-key triggers are switched off for the load
(``session_replication_role = replica``: Django's deferred FKs would otherwise queue one check
per row until COMMIT) and every foreign key is then checked once, with one anti-join each.

Home timelines hold what ``social.services.timeline_rebuild`` would give every user: the
``--timeline`` (default 200) newest posts of the people they follow and their own (see
``timelines``). ``--timelines-only`` rebuilds just those on data already loaded.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_bench_social")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import Profile, User  # noqa: E402

BENCH_PASSWORD = "bench-password-123"  # noqa: S105 - benchmark accounts only
HANDLE_PREFIX = "bench"

# (table, column, referenced table) checked once after the load.
FOREIGN_KEYS = [
    ("social_post", "author_id", "accounts_user"),
    ("social_follow", "follower_id", "accounts_user"),
    ("social_follow", "followee_id", "accounts_user"),
    ("social_like", "user_id", "accounts_user"),
    ("social_like", "post_id", "social_post"),
    ("social_timelineentry", "owner_id", "accounts_user"),
    ("social_timelineentry", "post_id", "social_post"),
    ("social_timelineentry", "actor_id", "accounts_user"),
]


def step(label: str, sql: str, params: list[object] | None = None) -> int:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        rows = cursor.rowcount
    print(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.1f}s", flush=True)
    return rows


def timelines(args: argparse.Namespace) -> None:
    """Every bench user's ``--timeline`` newest posts among their own and followed people's.

    Per user, "newest posts of 101 authors" walks the post index backwards and probes the follow
    list per post: ~20,000 probes per user at 1M posts, hours for 10,000 users. Instead, one
    window query over the recent posts only: the window (a few days at full scale, everything
    at small scale) holds on average 4x the timeline per user, and any user who still has fewer
    than ``--timeline`` entries in it is then filled from all their posts, so the result is exact.
    """
    print(f"Home timelines: {args.timeline} newest followed posts per user (plus their own)", flush=True)
    per_user = max(1, args.posts * (args.follows_per_user + 1) // args.users)
    fraction = min(1.0, 4 * args.timeline / per_user)
    with connection.cursor() as cursor:
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SELECT max(created_at) - min(created_at) FROM social_post")
        span = cursor.fetchone()[0]
    window_seconds = (span.total_seconds() if span else 0) * fraction + 1
    step(
        f"timelines (posts of the last {window_seconds / 86400:.1f} days)",
        """
        INSERT INTO social_timelineentry (owner_id, post_id, actor_id, created_at)
        SELECT owner_id, id, author_id, created_at FROM (
            SELECT s.owner_id, p.id, p.author_id, p.created_at,
                   row_number() OVER (PARTITION BY s.owner_id ORDER BY p.created_at DESC, p.id DESC) AS n
            FROM (SELECT follower_id AS owner_id, followee_id AS author_id FROM social_follow
                  UNION ALL
                  SELECT id, id FROM accounts_user WHERE handle LIKE %s) s
            JOIN social_post p ON p.author_id = s.author_id
            WHERE p.created_at >= (SELECT max(created_at) FROM social_post) - make_interval(secs => %s)
        ) t
        WHERE n <= %s
        ON CONFLICT DO NOTHING
        """,
        [f"{HANDLE_PREFIX}%", window_seconds, args.timeline],
    )
    if fraction < 1.0:
        step(
            "timelines short of entries, filled from all posts",
            """
            INSERT INTO social_timelineentry (owner_id, post_id, actor_id, created_at)
            SELECT u.id, t.id, t.author_id, t.created_at
            FROM accounts_user u
            CROSS JOIN LATERAL (
                SELECT p.id, p.author_id, p.created_at FROM social_post p
                WHERE p.author_id IN (
                    SELECT followee_id FROM social_follow WHERE follower_id = u.id UNION ALL SELECT u.id
                )
                ORDER BY p.created_at DESC LIMIT %s
            ) t
            WHERE u.handle LIKE %s
              AND (SELECT count(*) FROM social_timelineentry e WHERE e.owner_id = u.id) < %s
            ON CONFLICT DO NOTHING
            """,
            [args.timeline, f"{HANDLE_PREFIX}%", args.timeline],
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--follows-per-user", type=int, default=100)
    parser.add_argument("--likes", type=int, default=5_000_000)
    parser.add_argument("--timeline", type=int, default=200, help="home-timeline entries kept per user")
    parser.add_argument("--days", type=int, default=60, help="posts spread over this many days")
    parser.add_argument(
        "--timelines-only", action="store_true", help="keep posts, follows and likes; rebuild timelines"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The benchmark needs PostgreSQL (set DATABASE_URL).")
    if args.follows_per_user * 37 >= args.users:
        sys.exit("--follows-per-user must be below users/37 (the follow pattern relies on it).")

    print(f"Database {connection.settings_dict['NAME']}: migrating", flush=True)
    call_command("migrate", verbosity=0)
    if args.timelines_only:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE social_timelineentry")
            cursor.execute("SET session_replication_role = replica")
        try:
            timelines(args)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute("VACUUM (ANALYZE) social_timelineentry")
        print(f"Done in {time.perf_counter() - started:.0f}s.", flush=True)
        return

    started = time.perf_counter()
    print("Clearing earlier bench data", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE social_timelineentry, social_like, social_repost, social_bookmark, social_notification, "
            "social_mention, social_posthashtag, social_postimage, social_postedit, social_report, "
            "social_moderationaction, social_follow, social_followrequest, social_block, social_mute, social_post"
        )
    User.objects.filter(handle__startswith=HANDLE_PREFIX).delete()

    print(f"Users: {args.users:,}", flush=True)
    password = make_password(BENCH_PASSWORD)
    users = User.objects.bulk_create(
        [
            User(email=f"{HANDLE_PREFIX}{i}@example.com", handle=f"{HANDLE_PREFIX}{i}", password=password)
            for i in range(args.users)
        ],
        batch_size=5000,
    )
    Profile.objects.bulk_create(
        [Profile(user=u, display_name=f"Bench {i}") for i, u in enumerate(users)],
        batch_size=5000,
        ignore_conflicts=True,
    )
    u_min = min(u.pk for u in users)
    assert max(u.pk for u in users) - u_min + 1 == args.users, "user ids must be contiguous"

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # no FK triggers during the load
    try:
        print(f"Posts: {args.posts:,}", flush=True)
        step(
            "posts",
            """
            INSERT INTO social_post (author_id, text, html, visibility, content_warning, is_pinned, created_at,
                                     like_count, reply_count, repost_count)
            SELECT %s + floor(random() * %s)::int,
                   'Bench post number ' || g || ' about things',
                   'Bench post number ' || g || ' about things',
                   CASE WHEN g %% 10 = 0 THEN 'followers' ELSE 'public' END, '', false,
                   now() - make_interval(secs => (%s - g) * (%s * 86400.0 / %s)),
                   0, 0, 0
            FROM generate_series(1, %s) AS g
            """,
            [u_min, args.users, args.posts, args.days, args.posts, args.posts],
        )
        print(f"Follows: {args.users * args.follows_per_user:,}", flush=True)
        step(
            "follows",
            """
            INSERT INTO social_follow (follower_id, followee_id, created_at)
            SELECT %s + f, %s + (f + 1 + k * 37) %% %s, now() - interval '90 days'
            FROM generate_series(0, %s - 1) AS f, generate_series(0, %s - 1) AS k
            ON CONFLICT DO NOTHING
            """,
            [u_min, u_min, args.users, args.users, args.follows_per_user],
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM social_post")
            p_min, p_max = cursor.fetchone()
        print(f"Likes: {args.likes:,}", flush=True)
        step(
            "likes",
            """
            INSERT INTO social_like (user_id, post_id, created_at)
            SELECT %s + (g %% %s), %s + (((g / %s) * (7919 + 31 * %s) + 31 * (g %% %s)) %% %s), now()
            FROM generate_series(0, %s - 1) AS g
            ON CONFLICT DO NOTHING
            """,
            [u_min, args.users, p_min, args.users, args.users, args.users, p_max - p_min + 1, args.likes],
        )
        step(
            "like counters",
            """
            UPDATE social_post p SET like_count = c.n
            FROM (SELECT post_id, count(*) AS n FROM social_like GROUP BY post_id) c WHERE c.post_id = p.id
            """,
        )
        timelines(args)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")

    print("Checking every foreign key once", flush=True)
    with connection.cursor() as cursor:
        for table, column, target in FOREIGN_KEYS:
            cursor.execute(
                f"SELECT count(*) FROM {table} t LEFT JOIN {target} r ON r.id = t.{column} "  # noqa: S608 - constants
                f"WHERE r.id IS NULL"
            )
            missing = cursor.fetchone()[0]
            if missing:
                sys.exit(f"{table}.{column}: {missing} rows point nowhere")
        # VACUUM, not just ANALYZE: the like counters' UPDATE left a dead version of every post,
        # which reads by primary key would step over until a vacuum (autovacuum is off on these
        # machines, and on a busy server it may not have run yet).
        print("Vacuuming", flush=True)
        cursor.execute("VACUUM (ANALYZE)")
    print(
        f"Done in {time.perf_counter() - started:.0f}s. Log in as {HANDLE_PREFIX}0..{args.users - 1}.",
        flush=True,
    )


if __name__ == "__main__":
    main()
