"""Celery application. Run ``celery -A config worker`` and ``celery -A config beat``.

Every task's base class is ``ResilientTask``: when the broker (Redis) cannot take a message,
the task runs inline in the process that queued it instead of failing the request that asked
for it (which, from ``transaction.on_commit``, would be a 500 after its write had committed).
Tasks are short and idempotent (the project's rule for tasks), so running one inline is safe;
it only makes that one request slower. While the broker is down it is not tried again for
``BROKER_RETRY_SECONDS``, so each request does not wait for a connection timeout. One warning
per outage; recovery is automatic (the next publish after the pause reconnects).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import Celery, Task
from kombu import Queue
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)
BROKER_RETRY_SECONDS = 2.0
_BROKER_ERRORS = (OperationalError, RedisError, OSError)


class _BrokerState:
    def __init__(self) -> None:
        self.retry_at = 0.0
        self.down = False
        self.lock = threading.Lock()


_broker = _BrokerState()


class ResilientTask(Task):
    """See the module docstring."""

    def apply_async(  # type: ignore[override]  # passes every option on to Task.apply_async unchanged
        self, args: Any = None, kwargs: Any = None, task_id: str | None = None, **options: Any
    ) -> Any:
        if self.app.conf.task_always_eager:
            return super().apply_async(args, kwargs, task_id, **options)
        if time.monotonic() < _broker.retry_at:
            return self._run_inline(args, kwargs)
        try:
            result = super().apply_async(args, kwargs, task_id, **options)
        except _BROKER_ERRORS as exc:
            with _broker.lock:
                _broker.retry_at = time.monotonic() + BROKER_RETRY_SECONDS
                first = not _broker.down
                _broker.down = True
            if first:
                logger.warning("Celery broker unreachable (%s): running tasks inline until it is back.", exc)
            return self._run_inline(args, kwargs)
        if _broker.down:
            _broker.down = False
            logger.warning("Celery broker answers again: tasks are queued again.")
        return result

    def _run_inline(self, args: Any, kwargs: Any) -> Any:
        logger.info("Running %s inline (broker unreachable)", self.name)
        result = self.apply(args, kwargs, throw=False)
        if result.failed() and _database_connection_replaced(result.result):
            # PostgreSQL dropped the connection this process was using (a restart, a failover):
            # a worker would run the task on a fresh one; so does this, once.
            result = self.apply(args, kwargs, throw=False)
        if result.failed():
            logger.error("Task %s failed inline: %r", self.name, result.result)
        return result


def _database_connection_replaced(exc: BaseException) -> bool:
    """Closes Django's connection if ``exc`` is a lost database connection and no transaction of
    the caller's is open on it (then a task's retry would fail on the same dead connection);
    returns whether it did."""
    from django.db import connection

    from config.http_errors import is_connection_fault

    if not is_connection_fault(exc) or connection.in_atomic_block:
        return False
    connection.close()
    return True


app = Celery("config", task_cls=ResilientTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
# Home-feed fan-out chunks (social.feeds.fanout) have a queue of their own: a worker takes from
# its queues in turn, so another task waits behind at most one chunk of a big fan-out, never
# behind all of it. The Procfile's and Railway's worker name both queues (a worker started
# without -Q consumes every queue declared here; social/tests/test_fanout.py checks the start
# commands), and a dedicated `-Q fanout` worker can be added to scale fan-out alone.
FANOUT_QUEUE = "fanout"
app.conf.task_default_queue = "celery"
app.conf.task_queues = (Queue("celery"), Queue(FANOUT_QUEUE))
app.conf.task_routes = {
    "social.tasks.timeline_push_post_chunk": {"queue": FANOUT_QUEUE},
    "social.tasks.timeline_push_repost_chunk": {"queue": FANOUT_QUEUE},
}
app.autodiscover_tasks()
