"""config.stack_headroom: a loop calling from any depth under ``with_stack_headroom`` never
maps and unmaps a frame-stack chunk per call (CPython gh-142183), and gunicorn's workers run
their request loop that way (gunicorn.conf.py)."""

from __future__ import annotations

import resource
import runpy
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from config.stack_headroom import with_stack_headroom

CALLS = 50
DEPTHS = range(400)


def _leaf() -> None:
    return None


def _loop_at(depth: int) -> int:
    """Minor page faults of CALLS calls made ``depth`` frames further down."""
    if depth:
        return _loop_at(depth - 1)
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for _ in range(CALLS):
        _leaf()
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before


def _worst_depth_faults() -> int:
    return max(_loop_at(depth) for depth in DEPTHS)


def _in_fresh_thread(func: Any) -> Any:
    """``func()`` in a new thread, whose frame stack starts at a known place."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(func()))
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="CPython 3.13+ keeps a spare chunk")
def test_without_headroom_some_depth_maps_a_chunk_on_every_call():
    # What the module is for: at a chunk's edge each of the calls faults a new chunk in.
    assert _in_fresh_thread(_worst_depth_faults) >= CALLS


def test_with_headroom_no_depth_faults_per_call():
    assert _in_fresh_thread(lambda: with_stack_headroom(_worst_depth_faults)) < 5


def test_with_headroom_passes_arguments_and_the_result():
    assert with_stack_headroom(lambda a, b=0: a + b, 2, b=3) == 5


def test_gunicorn_workers_run_their_request_loop_with_headroom():
    hooks = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))

    class Worker:
        def run(self) -> int:
            return _worst_depth_faults()

    worker = Worker()
    hooks["post_worker_init"](worker)

    assert _in_fresh_thread(worker.run) < 5
