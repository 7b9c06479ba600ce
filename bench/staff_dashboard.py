"""Benchmark: the staff dashboard's page views at scale (default 1M users, 100k subscriptions),
against a reference admin page in the same run, plus the query plan of every query a page view
runs and the time of one nightly close of a day.

In-process with Django's test client on PostgreSQL and Redis (the whole middleware and admin
stack). The data is generated with ``INSERT ... SELECT generate_series`` (foreign-key triggers off
during the load), kept between runs in the scratch database ``test_<name>``:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_staff_bench REDIS_URL=redis://127.0.0.1:6379/2 \
        .venv/bin/python bench/staff_dashboard.py [--users 1000000] [--subscriptions 100000] [--requests 40]

Every page measured must show the same number of queries whatever the table sizes, and no plan
may contain a sequential scan of a table that grows and holds more than 10,000 rows (users, posts,
likes, reposts, subscriptions, activity): the script exits non-zero if one does.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_TESTING", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_staff_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

GROWING_TABLES = (
    "accounts_user",
    "social_post",
    "social_like",
    "social_repost",
    "social_moderationaction",
    "staff_useractiveday",
    "djstripe_subscription",
    "djstripe_customer",
)


def insert_series(model: type[Model], n: int, exprs: dict[str, str]) -> None:
    """Inserts ``n`` rows of ``model``: the given SQL expressions of ``i`` (1..n), each other column
    its field default (Django's defaults live in Python, not in the table)."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in exprs:
            columns.append(field.column)
            values.append(exprs[field.column].replace("%", "%%"))
        elif field.primary_key and field.column in ("id", "djstripe_id"):
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append(field.column)
            values.append("now()")
        elif field.null and not field.has_default():
            continue
        else:
            columns.append(field.column)
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    # Table, columns and expressions come from the models and this script, never from input.
    table, names, exprs_sql = model._meta.db_table, ", ".join(columns), ", ".join(values)
    sql = f"INSERT INTO {table} ({names}) SELECT {exprs_sql} FROM generate_series(1, {int(n)}) AS g(i)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def seed(users: int, subscriptions: int) -> None:
    from djstripe.models import Customer, Price, Product, Subscription

    from accounts.models import User
    from social.models import Like, Post
    from staff.models import UserActiveDay

    days = 400
    step = days * 86400 / users  # sign-ups spread over 400 days, ids growing with time
    joined = f"now() - interval '{days} days' + make_interval(secs => i * {step})"
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    insert_series(
        User,
        users,
        {
            "email": "'u' || i || '@bench.example'",
            "handle": "'u' || i",
            "password": "'!'",
            "date_joined": joined,
        },
    )
    first = User.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    posts = users // 2
    insert_series(
        Post,
        posts,
        {
            "author_id": f"{first} + (i::bigint * 7919) % {users}",
            "text": "'bench post ' || i",
            "created_at": f"now() - interval '{days} days' + make_interval(secs => i * {days * 86400 / posts})",
        },
    )
    first_post = Post.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    insert_series(
        Like,
        users,
        {
            "user_id": f"{first} + (i::bigint * 104729) % {users}",
            "post_id": f"{first_post} + i % {posts}",
            "created_at": joined,
        },
    )
    # 60 days of activity, 20k active users a day.
    insert_series(
        UserActiveDay,
        60 * 20000,
        {"user_id": f"{first} + (i::bigint * 31) % {users}", "day": "current_date - (i / 20000)::int"},
    )
    product = Product.objects.create(id="prod_bench", name="Pro", livemode=False, active=True, stripe_data={})
    price_data = {
        "id": "price_bench",
        "unit_amount": 1000,
        "currency": "usd",
        "recurring": {"interval": "month"},
    }
    Price.objects.create(
        id="price_bench", product=product, livemode=False, active=True, currency="usd", stripe_data=price_data
    )
    insert_series(
        Customer,
        subscriptions,
        {
            "id": "'cus_b' || i",
            "subscriber_id": f"{first} + i",
            "livemode": "false",
            "stripe_data": "'{}'::jsonb",
        },
    )
    sub_data = (
        "jsonb_build_object('status', CASE WHEN i % 10 = 0 THEN 'canceled' ELSE 'active' END, "
        f"'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('quantity', 1, "
        f"'price', '{json.dumps(price_data)}'::jsonb))))"
    )
    customer_pk = "(SELECT djstripe_id FROM djstripe_customer WHERE id = 'cus_b' || i)"
    insert_series(
        Subscription,
        subscriptions,
        {"id": "'sub_b' || i", "customer_id": customer_pk, "livemode": "false", "stripe_data": sub_data},
    )
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = DEFAULT")
    print(f"seeded {users:,} users, {posts:,} posts, {users:,} likes, {subscriptions:,} subscriptions "
          f"in {time.perf_counter() - start:.0f} s")  # fmt: skip


def close_days() -> float:
    """Closes yesterday for real (timed: the nightly cost), then fills a year of earlier rows."""
    from staff.models import DailyFigure
    from staff.services import daily_figure_compute, retention_cohorts_update, today

    yesterday = today() - timedelta(days=1)
    DailyFigure.objects.filter(day__gte=yesterday - timedelta(days=1)).delete()
    start = time.perf_counter()
    daily_figure_compute(day=yesterday - timedelta(days=1), final=True)  # the first ever: no marks yet
    first_close = time.perf_counter() - start
    start = time.perf_counter()
    row = daily_figure_compute(day=yesterday, final=True)
    close = time.perf_counter() - start
    start = time.perf_counter()
    retention_cohorts_update()
    cohorts = time.perf_counter() - start
    DailyFigure.objects.bulk_create(
        [
            DailyFigure(day=yesterday - timedelta(days=back), figures=row.figures, high_water={}, final=True)
            for back in range(2, 366)
        ],
        ignore_conflicts=True,
    )
    print(f"close of a day: first ever {first_close:.1f} s; next day {close:.1f} s; cohorts {cohorts:.1f} s")
    return close


def timed(client: Client, path: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return samples


def plans(queries: list[dict[str, Any]]) -> list[str]:
    """Each query's plan; the sequential scans of growing tables among them."""
    seq_scans = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            scans = [line.strip() for line in plan if "Scan" in line]
            print(f"  {sql[:150]}{'…' if len(sql) > 150 else ''}\n    " + "\n    ".join(scans or plan[:1]))
            seq_scans += [s for s in scans if "Seq Scan" in s and _large(s)]
    return seq_scans


def _large(plan_line: str) -> bool:
    """A growing table with rows in it (the planner rightly seq-scans an empty or tiny table)."""
    table = next((t for t in GROWING_TABLES if f" on {t}" in plan_line), None)
    if table is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return float(cursor.fetchone()[0]) > 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    logging.getLogger("relay.access").setLevel(logging.WARNING)
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    cache.clear()

    from django.contrib.auth.models import Permission
    from djstripe.models import Subscription

    from accounts.models import User
    from accounts.tests.factories import StaffUserFactory

    if not Subscription.objects.filter(id="sub_b1").exists():  # the last table seeded
        with transaction.atomic():
            seed(args.users, args.subscriptions)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    close_days()
    superuser = User.objects.filter(email="bench-staff@example.com").first() or StaffUserFactory(
        email="bench-staff@example.com", handle="benchstaff"
    )
    plain = User.objects.filter(email="bench-plain@example.com").first() or StaffUserFactory(
        email="bench-plain@example.com", handle="benchplain", is_superuser=False
    )
    plain.user_permissions.add(
        Permission.objects.get(codename="view_user", content_type__app_label="accounts")
    )
    staff, reference = Client(), Client()
    staff.force_login(superuser)
    reference.force_login(plain)
    person = User.objects.filter(handle="u1000").first()
    pages = {
        "reference: admin index without the dashboard": (reference, "/admin/"),
        "admin index with the 30-day summary": (staff, "/admin/"),
        "dashboard, 30 days": (staff, "/admin/staff/dashboard/?days=30"),
        "dashboard, 365 days": (staff, "/admin/staff/dashboard/?days=365"),
        "dashboard CSV, 365 days": (staff, "/admin/staff/dashboard.csv?days=365"),
        "user 360": (staff, f"/admin/staff/useroverview/{person.pk if person else superuser.pk}/change/"),
    }
    queries: dict[str, list[dict[str, Any]]] = {}
    for name, (client, path) in pages.items():
        timed(client, path, 3)
        with CaptureQueriesContext(connection) as capture:
            client.get(path)
        queries[name] = list(capture.captured_queries)
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(4):  # interleaved rounds so load drift hits every page alike
        for name, (client, path) in pages.items():
            samples[name] += timed(client, path, max(args.requests // 4, 1))

    base = statistics.median(samples["reference: admin index without the dashboard"])
    print(f"\n{User.objects.count():,} users; {len(samples[next(iter(pages))])} requests per page\n")
    print("| page | queries | p50 ms | p90 ms | p50 / reference |")
    print("|---|---|---|---|---|")
    for name, values in samples.items():
        values.sort()
        p50, p90 = statistics.median(values), values[int(len(values) * 0.9)]
        print(f"| {name} | {len(queries[name])} | {p50:.1f} | {p90:.1f} | {p50 / base:.2f} |")
    bad: list[str] = []
    for name in ("dashboard, 365 days", "user 360"):
        print(f"\nplans of {name}:")
        bad += plans(queries[name])
    if bad:
        print("\nSEQUENTIAL SCANS OF GROWING TABLES:\n  " + "\n  ".join(bad))
        sys.exit(1)
    print(f"\nno sequential scan of a growing table ({', '.join(GROWING_TABLES)}) in any page view")
    _ = timezone


if __name__ == "__main__":
    main()
