"""Load test: the home-feed API page of 20 against trivial JSON endpoints, in the same run.

Needs data from bench/social_generate.py in the same database, wrk (``apt-get install -y wrk``)
and gunicorn. It signs in ``--clients`` bench users (sessions created directly, as a login
would), starts gunicorn with the production gunicorn.conf.py (sync workers, persistent DB
connections), warms up, then runs ``wrk -t2 -c16`` against each endpoint in turn, ``--rounds``
times: ``/bench/ping`` without a cookie (the perf NOTES' "bare JsonResponse") and signed in,
``/bench/api-ping`` (a DRF view with the API's authentication, permission, scope and throttle
classes, signed in) and ``/api/v1/feeds/home/``, the signed-in runs using the users' session
cookies in turn; and the HTML pages (issue 16): the signed-in home page ``/`` and the profile
page of a busy bench author, each checked to show 20 posts first and compared with the home feed
API in the same rounds (target: >= 0.5 of its throughput, p95 <= 50 ms). CPU is counted for the
started server's processes and the bench database's sessions only (the machine is shared).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_social REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/social_feed.py --duration 15

Prints each round, then medians of req/s and p50/p95/p99 and the ratios the issue asks for
(p95 <= 50 ms; feed throughput >= 40% of a trivial endpoint), and the CPU milliseconds each
request cost by process, which says where a ratio comes from. Run it on 10k posts and on 1M
posts and compare the feed latencies (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/relay_bench_social")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
# Sessions are signed with the secret key: the server must use the one they were made with.
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(60))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.sessions import bench_session_keys  # noqa: E402

DONE_LUA = """
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
  io.write(string.format("P50_US %d\\n", latency:percentile(50)))
  io.write(string.format("P99_US %d\\n", latency:percentile(99)))
end
"""
COOKIES_LUA = """
local cookies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", nil, {["Cookie"] = "sessionid=" .. cookies[(i %% #cookies) + 1]})
end
"""


# name: (path, label); the first three are the trivial JSON endpoints the feed is compared with.
ENDPOINTS = {
    "bare": ("/bench/ping", "trivial JSON, no cookie"),
    "ping": ("/bench/ping", "trivial JSON, signed in"),
    "api": ("/bench/api-ping", "trivial DRF API, signed in"),
    "feed": ("/api/v1/feeds/home/", "home feed, 20"),
    # The HTML pages, compared with the feed API (issue 16): "{profile}" is a busy bench author.
    "home_html": ("/", "home page HTML, 20"),
    "profile_html": ("/@{profile}", "profile page HTML, 20"),
}
HTML_PAGES = ("home_html", "profile_html")


def busy_author() -> str:
    """A bench author with more than a page of public posts: the profile page measured."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.handle FROM accounts_user u JOIN accounts_profile pr ON pr.user_id = u.id"
            " WHERE u.handle LIKE 'bench%%' AND NOT pr.is_private"
            " AND (SELECT count(*) FROM (SELECT 1 FROM social_post p WHERE p.author_id = u.id"
            " AND p.visibility = 'public' AND p.reply_to_id IS NULL LIMIT 21) s) > 20"
            " ORDER BY u.id LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        sys.exit("No bench author with 21 public posts: run bench/social_generate.py first.")
    return str(row[0])


def page_check(url: str, key: str) -> None:
    """An HTML page answers 200 with a full page of posts before it is measured."""
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={key}"})  # noqa: S310 - local
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
        body = response.read().decode()
    if body.count('<article class="post') < 20:
        sys.exit(f"{url} shows fewer than 20 posts: is the bench data loaded?")


def html_paths(names: list[str]) -> dict[str, str]:
    """The HTML pages' paths, the profile being a busy author's."""
    if not any(name in HTML_PAGES for name in names):
        return {}
    profile = busy_author()
    return {name: ENDPOINTS[name][0].format(profile=profile) for name in HTML_PAGES if name in names}


def html_report(
    names: list[str], rounds: list[dict[str, dict[str, float]]], median: dict[str, dict[str, float]]
) -> None:
    """The issue-16 targets: each HTML page against the home-feed API, in the same rounds."""
    for name in HTML_PAGES:
        if name in names:
            ratio = statistics.median(r[name]["rps"] / r["feed"]["rps"] for r in rounds)
            print(
                f"{ENDPOINTS[name][1]}: {ratio:.2f} of the home feed API's throughput (median of per-round"
                f" ratios; target >= 0.50), p95 {median[name]['p95']:.1f} ms (target <= 50)"
            )


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
# What each process's CPU is counted as; anything else on the machine is "other".
PROCESS_KINDS = {"gunicorn": "workers", "postgres": "postgres", "redis-server": "redis"}


# The started server's process group, and the database whose backends count as "postgres".
OURS: dict[str, object] = {"server_pgid": None, "database": None}


def _ours(kind: str, proc: Path, pgid: int) -> bool:
    """Whether a gunicorn or PostgreSQL process serves this run (not another one on the machine)."""
    if kind == "workers" and OURS["server_pgid"] is not None:
        return pgid == OURS["server_pgid"]
    if kind == "postgres" and OURS["database"]:
        try:
            title = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return False
        # A backend's title: "postgres: <user> <database> <client> <state>".
        return f" {OURS['database']} " in title
    return True


def cpu_snapshot() -> Counter[str]:
    """CPU ticks used so far by each kind of process, and the machine's busy and steal ticks.

    The workers, PostgreSQL's backends and Redis outlive a run, so the difference of two
    snapshots is what they spent on it; wrk exits within the run and is counted apart.
    """
    ticks: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        kind = PROCESS_KINDS.get(name, "other")
        if not _ours(kind, stat.parent, int(fields[2])):  # fields[2]: the process group
            kind = "other"  # another engineer's server or database session on this shared machine
        ticks[kind] += int(fields[11]) + int(fields[12])  # utime, stime
    with open("/proc/stat") as machine:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, machine.readline().split()[1:9])
    ticks["busy"] = user + nice + system + irq + softirq
    ticks["steal"] = steal
    return ticks


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    before, children_before = cpu_snapshot(), resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        sys.exit(f"Errors from {url}:\n{out}")
    spent = cpu_snapshot() - before
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_ms = (
        children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime
    ) * 1000
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]  # wrk always prints it
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]  # wrk always prints it
    values = {k: int(v) / 1000 for k, v in re.findall(r"(P\d+)_US (\d+)", out)}
    # CPU milliseconds per request, by process kind ("other": the rest of the machine).
    cpu = {kind: spent[kind] * TICK_MS / requests for kind in ("workers", "postgres", "redis", "steal")}
    cpu["wrk"] = wrk_ms / requests
    cpu["other"] = max(0.0, spent["busy"] * TICK_MS / requests - sum(cpu.values()) + cpu["steal"])
    return {"rps": rps, "p50": values["P50"], "p95": values["P95"], "p99": values["P99"]} | {
        f"cpu_{kind}": ms for kind, ms in cpu.items()
    }


def drain(port: int, limit: int = 500, timeout: float = 65.0) -> int:
    """Waits until few closed connections to the server linger in TIME_WAIT; returns how many.

    gunicorn's sync workers close every connection, so a 15 s run at ~1,400 req/s leaves ~20,000
    sockets in TIME_WAIT (60 s) against ~28,000 local ports: a new connection then often meets
    a port still in TIME_WAIT, its SYN is dropped and retried after 1 s, which shows up as
    1-second p95/p99 latencies and lost throughput in whichever run comes next.
    """
    started = time.monotonic()
    while True:
        out = subprocess.run(
            ["ss", "-tanH", "state", "time-wait", f"( sport = :{port} or dport = :{port} )"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        count = len(out.splitlines())
        if count <= limit or time.monotonic() - started > timeout:
            return count
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--clients", type=int, default=16, help="distinct signed-in users")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py's (2 per core)")
    parser.add_argument("--rounds", type=int, default=3, help="every endpoint once per round")
    parser.add_argument(
        "--endpoints", nargs="+", choices=list(ENDPOINTS), default=list(ENDPOINTS), help="default: all"
    )
    parser.add_argument(
        "--no-drain",
        dest="drain",
        action="store_false",
        help="do not wait for TIME_WAIT sockets between runs",
    )
    args = parser.parse_args()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM social_post")
        posts = cursor.fetchone()[0]
    keys = bench_session_keys(args.clients)
    script = Path(tempfile.mkdtemp()) / "cookies.lua"
    script.write_text(COOKIES_LUA % ", ".join(f'"{k}"' for k in keys) + DONE_LUA)
    bare_script = script.with_name("bare.lua")
    bare_script.write_text(DONE_LUA)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.social_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_TESTING": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "API_THROTTLE_USER": "100000000/min",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        # Connections kept for the whole run (production: 60 s): a PostgreSQL backend that exits
        # mid-run takes its CPU time out of the per-process accounting (it would land in "other").
        # Reconnecting once a minute per worker costs nothing measurable either way.
        "DATABASE_CONN_MAX_AGE": "3600",
        # Billing on, as in production, with a key the pages never use (they make no Stripe call).
        "STRIPE_TEST_SECRET_KEY": os.environ.get("STRIPE_TEST_SECRET_KEY", "sk_test_bench_unused"),
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET", "whsec_bench_unused"),
    }
    # The production settings (gunicorn.conf.py), on a local port; minus max_requests, whose
    # worker restarts (a fresh Django import each) would land inside the measurements.
    workers = args.workers or int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--max-requests",
            "0",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    OURS.update(server_pgid=server.pid, database=connection.settings_dict["NAME"])
    base = f"http://127.0.0.1:{args.port}"
    scripts = {"bare": bare_script, "ping": script, "api": script, "feed": script}
    names = [name for name in ENDPOINTS if name in args.endpoints]
    paths = {name: ENDPOINTS[name][0] for name in names} | html_paths(names)
    scripts |= dict.fromkeys(HTML_PAGES, script)
    rounds: list[dict[str, dict[str, float]]] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/ping", timeout=1)  # noqa: S310 - local
                break
            except OSError:
                time.sleep(0.2)
        for name in names:
            if name in HTML_PAGES:
                page_check(base + paths[name], keys[0])
            wrk(base + paths[name], scripts[name], args.warmup, args.connections)
        for number in range(1, args.rounds + 1):
            runs = {}
            for name in names:
                if args.drain:
                    drain(args.port)
                runs[name] = wrk(base + paths[name], scripts[name], args.duration, args.connections)
            rounds.append(runs)
            print(
                f"round {number}: "
                + ", ".join(f"{n} {r['rps']:.0f}/s p95 {r['p95']:.1f}" for n, r in runs.items()),
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print(
        f"posts={posts:,} workers={workers} c={args.connections} duration={args.duration}s "
        f"rounds={args.rounds} (medians over rounds)"
    )
    print("| endpoint | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|")
    median = {
        name: {key: statistics.median(r[name][key] for r in rounds) for key in rounds[0][name]}
        for name in names
    }
    for name in names:
        r = median[name]
        print(f"| {ENDPOINTS[name][1]} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} |")
    print(
        "\nCPU ms per request (medians over rounds; steal: taken by the hypervisor, other: the rest of the machine)"
    )
    print("| endpoint | workers | postgres | redis | wrk | other | steal |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        r = median[name]
        cells = " | ".join(
            f"{r[f'cpu_{kind}']:.2f}" for kind in ("workers", "postgres", "redis", "wrk", "other", "steal")
        )
        print(f"| {ENDPOINTS[name][1]} | {cells} |")
    if "feed" in names:
        ratios = [
            f"{statistics.median(r['feed']['rps'] / r[name]['rps'] for r in rounds):.2f} of {ENDPOINTS[name][1]}"
            for name in names
            if name not in ("feed", *HTML_PAGES)
        ]
        print(f"feed throughput (median of per-round ratios; target >= 0.40): {', '.join(ratios)}")
        print(f"feed p95 {median['feed']['p95']:.1f} ms (target <= 50)")
        html_report(names, rounds, median)


if __name__ == "__main__":
    main()
