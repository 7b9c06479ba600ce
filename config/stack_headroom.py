"""Calls a function with room to spare on CPython's frame stack.

CPython 3.11 keeps each thread's Python frames in 16 KiB chunks and frees a chunk as soon as the
frame at its base returns. A loop that calls a function from exactly the depth where a chunk
ends maps a new chunk on every call and unmaps it on every return: page faults and system time
on each call (CPython gh-142183, "Calls across stack chunks perform badly", fixed in 3.13 and
3.14 by keeping one spare chunk per thread). A Django request is deep enough to meet that edge
in ordinary places: measured on the profile page, its twenty post cards (one Jinja2 render, three
macro calls a card, inside Django's template nodes) took 168 page faults and 2.7 ms of CPU in
process against 1.1 ms a level higher, and a gunicorn worker showed 20 to 40 faults on each
HTML page (bench/RESULTS.md, "A CPython frame-stack edge").

``with_stack_headroom(func)`` calls ``func`` from a frame so large that CPython gives it a chunk
of its own, twice the size it needs: everything ``func`` calls runs in the spare ~70 KiB, a few
hundred frames deep, before it reaches a chunk's end. gunicorn.conf.py runs each worker's whole
request loop that way, so it costs one large frame per worker and nothing per request. On a
CPython that keeps a spare chunk the frame is merely unused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Slots of the large frame (8 bytes each). CPython 3.11 gives a frame that does not fit the
# current chunk a new one of 16 KiB doubled until it exceeds (slots + 1,000) * 8 bytes; 7,200
# slots (57.6 KiB) need 65.6 KiB, so the chunk is 128 KiB and ~70 KiB of it is left for callees.
HEADROOM_SLOTS = 7200


def _make_caller(slots: int) -> Callable[..., Any]:
    # A function's frame holds its local variables: ``slots`` of them, assigned once, make it
    # that large. Generated because Python has no other way to ask for frame space.
    names = "=".join(f"_slot{i}" for i in range(slots))
    source = f"def call(func, args, kwargs):\n    {names} = None\n    return func(*args, **kwargs)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<config.stack_headroom>", "exec"), namespace)  # noqa: S102 - source built above
    return namespace["call"]


_call_with_room = _make_caller(HEADROOM_SLOTS)


def with_stack_headroom(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)``, its callees starting in a fresh frame-stack chunk with room."""
    return _call_with_room(func, args, kwargs)
