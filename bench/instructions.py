"""Instructions per request, counted by valgrind's callgrind: a measure a busy machine cannot move.

Timed figures on this shared 2-core machine drift by a third within minutes (bench/RESULTS.md);
instruction counts of the same code, data and requests repeat to 0.3%. This runs the requests
of bench/request_cost.py (the WSGI handler called in process, signed in as its bench users) under
``valgrind --tool=callgrind`` with counting off while Django starts and warms up, on for
``--requests`` requests of each endpoint, and prints user-space instructions per request.

What it does not count: the kernel (system calls, page faults: a PostgreSQL or Redis round trip
costs more CPU than its instructions here show) and the other processes. Compare two commits by
running it from each checkout (``git worktree add``) on the same bench database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench_social_1m REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/instructions.py --endpoints bare api feed home_html profile_html

Needs ``valgrind`` (Debian's package) and the bench users of bench/social_generate.py. Each
endpoint takes ~20-60 s (valgrind runs Python about 50 times slower).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = ("bare", "ping", "api", "feed", "home_html", "profile_html")


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            sys.exit(f"the measured process ended early or hung (waiting for {path.name})")
        time.sleep(0.1)


def measure(endpoint: str, requests: int) -> int:
    """Instructions per request of ``endpoint``, in a process of its own under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "BENCH_IR_ENDPOINT": endpoint,
            "BENCH_IR_REQUESTS": str(requests),
            "BENCH_IR_DIR": tmp,
        }
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={folder / 'callgrind.out'}",
                sys.executable,
                __file__,
                "--measured",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(folder / "ready", process)
        subprocess.run(["callgrind_control", "--instr=on", str(process.pid)], check=True, capture_output=True)  # noqa: S607
        (folder / "go").touch()
        _wait_for(folder / "done", process)
        subprocess.run(
            ["callgrind_control", "--instr=off", str(process.pid)], check=True, capture_output=True
        )  # noqa: S607
        (folder / "exit").touch()
        process.wait(timeout=120)
        total = 0
        for out in folder.glob("callgrind.out*"):  # one file, or one per dump
            counts = [
                int(line.split()[1])
                for line in out.read_text(errors="replace").splitlines()
                if line.startswith(("summary:", "totals:"))
            ]
            total += max(counts, default=0)  # "summary" can be 0 where "totals" has the count
        return total // requests


def measured() -> None:
    """The process under valgrind: warm up, then the counted requests between two handshakes."""
    folder = Path(os.environ["BENCH_IR_DIR"])
    name, count = os.environ["BENCH_IR_ENDPOINT"], int(os.environ["BENCH_IR_REQUESTS"])
    sys.argv = [sys.argv[0]]
    sys.path.insert(0, str(ROOT))
    import bench.request_cost as cost  # noqa: PLC0415 - sets Django up as request_cost measures it

    handler = cost.WSGIHandler()
    cookies = cost.bench_session_keys(16) if cost.ENDPOINTS[name][1] else None
    path = cost.endpoint_paths([name])[name]
    cost.with_stack_headroom(cost.requests, handler, path, cookies, 100)
    (folder / "ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.05)
    cost.with_stack_headroom(cost.requests, handler, path, cookies, count)
    (folder / "done").touch()
    while not (folder / "exit").exists():
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=["bare", "api", "feed"])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--measured", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measured:
        measured()
        return
    print("| endpoint | instructions per request |\n|---|---|")
    for name in args.endpoints:
        print(f"| {name} | {measure(name, args.requests):,} |", flush=True)


if __name__ == "__main__":
    main()
