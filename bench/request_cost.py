"""Where the fixed cost of a signed-in request goes: worker CPU per component, in process.

Calls the project's WSGI handler directly (no test client, no server, no concurrency) with
``/bench/ping`` without a cookie, the same signed in, and ``/bench/api-ping`` (a DRF view with
the API's authentication, permission, scope and throttle classes) signed in, and prints the
CPU milliseconds per request of each middleware (its own work, the layers inside it
excluded), of the view and of the named steps inside them (the session load, the user load,
DRF's authentication, permission and throttle checks and the rendering; these are counted
inside whichever layer first needs them). CPU is this process's (``time.process_time``):
waiting for PostgreSQL or Redis is not counted, their own CPU is not either.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_social REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/request_cost.py [--requests 2000] [--profile api]

``--endpoints`` picks what to measure (default: the three trivial ones); ``feed``, ``home_html``
and ``profile_html`` are the home-feed API and the HTML pages of bench/social_feed.py (issue 16),
the profile being its busy author's. ``--profile NAME`` prints a cProfile of that endpoint
instead (``BENCH_SORT``, ``BENCH_ROWS``).
Needs the bench users of bench/social_generate.py.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.social_settings")
os.environ["DJANGO_DEBUG"] = "0"
os.environ["DJANGO_TESTING"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 60)
os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
os.environ["API_THROTTLE_USER"] = "100000000/min"
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("BILLING_ENABLED", "0")  # production settings want a Stripe key otherwise
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "3600")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from bench.sessions import bench_session_keys  # noqa: E402
from config.stack_headroom import with_stack_headroom  # noqa: E402

ENDPOINTS = {
    "bare": ("/bench/ping", False, "trivial JSON, no cookie"),
    "ping": ("/bench/ping", True, "trivial JSON, signed in"),
    "api": ("/bench/api-ping", True, "trivial DRF API, signed in"),
    # The pages of issue 16 beside the API they are compared with (bench/social_feed.py's);
    # "{profile}" is bench/social_feed.py's busy author.
    "feed": ("/api/v1/feeds/home/", True, "home feed API, 20"),
    "home_html": ("/", True, "home page HTML, 20"),
    "profile_html": ("/@{profile}", True, "profile page HTML, 20"),
}
DEFAULT_ENDPOINTS = ("bare", "ping", "api")

# Named steps timed wherever they run: (label, module, qualified name).
STEPS = [
    ("session load", "django.contrib.sessions.backends.cached_db", "SessionStore.load"),
    ("session save", "django.contrib.sessions.backends.cached_db", "SessionStore.save"),
    ("user load (auth.get_user)", "django.contrib.auth", "get_user"),
    ("user load (accounts.session_auth.session_user)", "accounts.session_auth", "session_user"),
    ("DRF: authentication", "rest_framework.views", "APIView.perform_authentication"),
    ("DRF: permissions", "rest_framework.views", "APIView.check_permissions"),
    ("DRF: throttles", "rest_framework.views", "APIView.check_throttles"),
    ("DRF: content negotiation", "rest_framework.views", "APIView.perform_content_negotiation"),
    ("DRF: finalize + render", "rest_framework.views", "APIView.finalize_response"),
    (
        "  of which the user query (ModelBackend.get_user)",
        "django.contrib.auth.backends",
        "ModelBackend.get_user",
    ),
    (
        "  of which the session hash check",
        "django.contrib.auth.base_user",
        "AbstractBaseUser.get_session_auth_hash",
    ),
    (
        "DB: connection health check, whole (Django's, or config.postgresql's socket poll)",
        "django.db.backends.postgresql.base",
        "DatabaseWrapper.close_if_health_check_failed",
    ),
    (
        "DB: connection health check, whole (Django's, or config.postgresql's socket poll)",
        "config.postgresql.base",
        "DatabaseWrapper.close_if_health_check_failed",
    ),
    (
        "DB: connection health check (SELECT 1)",
        "django.db.backends.postgresql.base",
        "DatabaseWrapper.is_usable",
    ),
    ("DB: every query (cursor.execute)", "django.db.backends.utils", "CursorWrapper.execute"),
    ("Redis: every command", "redis.client", "Redis.execute_command"),
    ("staff: activity mark", "staff.services", "user_activity_mark"),
    ("access log line", "logging", "Logger._log"),
]

cpu = time.process_time_ns
totals: dict[str, int] = defaultdict(int)


def _timed(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
    depth = [0]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if depth[0]:
            return func(*args, **kwargs)
        depth[0] += 1
        started = cpu()
        try:
            return func(*args, **kwargs)
        finally:
            totals[label] += cpu() - started
            depth[0] -= 1

    return wrapper


def instrument_steps() -> None:
    for label, module_name, qualname in STEPS:
        try:
            owner: Any = import_module(module_name)
        except ImportError:  # code that does not have it (an older commit)
            continue
        *path, name = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        if name in vars(owner) or not isinstance(owner, type):  # its own, not inherited
            setattr(owner, name, _timed(label, getattr(owner, name)))
    # Functions imported by name into the modules that call them.
    import accounts.middleware
    import staff.middleware

    staff.middleware.user_activity_mark = staff.services.user_activity_mark
    if hasattr(accounts.middleware, "session_user"):
        accounts.middleware.session_user = sys.modules["accounts.session_auth"].session_user


class _CellSetter:
    """``setattr(holder, "value", x)`` rebinds a closure's cell."""

    cell: Any

    def __init__(self, cell: Any) -> None:
        object.__setattr__(self, "cell", cell)

    def __setattr__(self, name: str, value: Any) -> None:
        self.cell.cell_contents = value


def instrument_chain(handler: WSGIHandler) -> list[str]:
    """Times each middleware's whole call (``total:<name>``) by wrapping the layer outside it."""
    names: list[str] = []
    layer: Any = handler._middleware_chain  # type: ignore[attr-defined]  # Django's, set by load_middleware
    outer_owner: Any = handler
    outer_attr = "_middleware_chain"
    while True:
        # convert_exception_to_response wraps each layer (functools.wraps: `__wrapped__`).
        target = getattr(layer, "__wrapped__", layer)
        closure = (
            dict(zip(target.__code__.co_freevars, target.__closure__ or (), strict=True))
            if hasattr(target, "__code__")
            else {}
        )
        if "get_response" in closure:  # a function middleware (allauth's): its get_response is a cell
            name = target.__module__.split(".")[0] + "." + target.__qualname__.split(".")[0]
            names.append(name)
            setattr(outer_owner, outer_attr, _timed(f"total:{name}", layer))
            cell = closure["get_response"]
            inner_layer = cell.cell_contents
            holder = _CellSetter(cell)
            outer_owner, outer_attr, layer = holder, "value", inner_layer
            continue
        if not hasattr(target, "get_response"):
            name = "view (resolve, view, response)"
            names.append(name)
            setattr(outer_owner, outer_attr, _timed(f"total:{name}", layer))
            return names
        name = type(target).__module__.split(".")[0] + "." + type(target).__name__
        names.append(name)
        setattr(outer_owner, outer_attr, _timed(f"total:{name}", layer))
        outer_owner, outer_attr, layer = target, "get_response", target.get_response


def environ(path: str, cookie: str | None) -> dict[str, Any]:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk",
        "HTTP_ACCEPT": "*/*",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if cookie:
        env["HTTP_COOKIE"] = f"sessionid={cookie}"
    return env


def request(handler: WSGIHandler, path: str, cookie: str | None) -> bytes:
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)

    body: Any = handler(environ(path, cookie), start_response)
    content = b"".join(body)
    body.close()
    if not statuses[0].startswith("200"):
        sys.exit(f"{path}: {statuses[0]}")
    return content


def requests(handler: WSGIHandler, path: str, cookies: list[str] | None, count: int) -> None:
    """``count`` requests for ``path``, signed in with ``cookies`` in turn (None: no cookie)."""
    for i in range(count):
        request(handler, path, cookies[i % len(cookies)] if cookies else None)


def endpoint_paths(names: list[str]) -> dict[str, str]:
    """Each endpoint's path, the profile page being bench/social_feed.py's busy author's."""
    paths = {name: ENDPOINTS[name][0] for name in names}
    if "profile_html" in paths:
        from bench.social_feed import busy_author  # its django.setup() is a no-op by now

        paths["profile_html"] = paths["profile_html"].format(profile=busy_author())
    return paths


def full_page_check(handler: WSGIHandler, name: str, path: str, cookie: str) -> None:
    """An HTML page measured must be a full one (20 posts), as bench/social_feed.py checks."""
    if name.endswith("_html") and request(handler, path, cookie).count(b'<article class="post') < 20:
        sys.exit(f"{path} shows fewer than 20 posts: is the bench data loaded?")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="every endpoint once per round; medians")
    parser.add_argument("--clients", type=int, default=16, help="distinct signed-in users, in turn")
    parser.add_argument("--endpoints", nargs="+", choices=list(ENDPOINTS), default=list(DEFAULT_ENDPOINTS))
    parser.add_argument("--profile", choices=list(ENDPOINTS), default=None)
    parser.add_argument("--plain", action="store_true", help="only the uninstrumented figures")
    args = parser.parse_args()

    names: list[str] = list(dict.fromkeys([*args.endpoints, *([args.profile] if args.profile else [])]))
    cookies = bench_session_keys(args.clients)
    handler = WSGIHandler()
    paths = endpoint_paths(names)

    def run(name: str, count: int) -> None:
        # As a gunicorn worker runs its request loop (gunicorn.conf.py): never at a chunk's edge.
        with_stack_headroom(requests, handler, paths[name], cookies if ENDPOINTS[name][1] else None, count)

    for name in names:  # warm up: every session and user row loaded once
        run(name, 200)
        full_page_check(handler, name, paths[name], cookies[0])

    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL or Redis
        profiler.enable()
        run(args.profile, args.requests)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(
            int(os.environ.get("BENCH_ROWS", "50"))
        )
        return

    # Plain cost first (no instrumentation), then the per-component breakdown.
    plain: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        for name in names:
            started = cpu()
            run(name, args.requests)
            plain[name].append((cpu() - started) / args.requests / 1e6)

    if args.plain:
        print(" ".join(f"{name}={statistics.median(plain[name]):.3f}" for name in names))
        return
    instrument_steps()
    layers = instrument_chain(handler)
    breakdown: dict[str, dict[str, float]] = {}
    for name in names:
        totals.clear()
        run(name, args.requests)
        per = {key: value / args.requests / 1e6 for key, value in totals.items()}
        # A layer's own cost: its whole call minus the next layer's.
        for index, layer in enumerate(layers):
            inner = per.get(f"total:{layers[index + 1]}", 0.0) if index + 1 < len(layers) else 0.0
            per[layer] = per.get(f"total:{layer}", 0.0) - inner
        breakdown[name] = per

    print(f"requests={args.requests} x rounds={args.rounds}, {args.clients} signed-in users in turn")
    print("\nWorker CPU ms per request, uninstrumented (median of rounds)")
    print("| " + " | ".join(ENDPOINTS[n][2] for n in names) + " |")
    print("|" + "---|" * len(names))
    print("| " + " | ".join(f"{statistics.median(plain[n]):.3f}" for n in names) + " |")
    print("\nWorker CPU ms per request by component (instrumented run; steps are inside the layers)")
    print("| component | " + " | ".join(ENDPOINTS[n][2] for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for layer in layers:
        print(f"| {layer} | " + " | ".join(f"{breakdown[n][layer]:.3f}" for n in names) + " |")
    first = layers[0]
    print(
        "| **whole handler (instrumented)** | "
        + " | ".join(f"**{breakdown[n][f'total:{first}']:.3f}**" for n in names)
        + " |"
    )
    for label in dict.fromkeys(label for label, _, _ in STEPS):
        print(f"| step: {label} | " + " | ".join(f"{breakdown[n].get(label, 0.0):.3f}" for n in names) + " |")


if __name__ == "__main__":
    main()
