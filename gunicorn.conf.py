"""gunicorn settings for production; every value can be overridden by the environment."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# gunicorn's largest request line (its default, 4094, answers a bare HTML 414 before Django can
# give the API's JSON 400 for a search term over its length limit).
limit_request_line = 8190
max_requests = 2000
max_requests_jitter = 200
# The request log comes from config.middleware.RequestIdMiddleware (one line, with the request id).
accesslog = None
errorlog = "-"
control_socket_disable = True


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Each worker's request loop runs with room on CPython's frame stack (config.stack_headroom):
    no request then meets the edge of a frame-stack chunk, where every call maps and unmaps one."""
    from config.stack_headroom import with_stack_headroom

    run = worker.run
    worker.run = lambda: with_stack_headroom(run)
