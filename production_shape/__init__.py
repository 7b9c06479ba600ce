"""The product in production shape on loopback, for operator scripts and fault tests (development
only: not in the image, see ``.dockerignore``; no app may import it, see ``.importlinter``).

Used by ``scripts/rehearse_production.py`` (``scripts/check-production --rehearse``),
``bench/fault_drill.py`` (``scripts/fault-drill``), ``scripts/fuzz-api`` and the fault tests
(``config/tests/test_redis_outage.py``, ``stripe_local/tests/test_crash.py``):

- ``processes``: the registry of what a run started (stopped by pid, also on a signal), free
  ports, waiting for an HTTP answer;
- ``services``: a redis-server of the run's own, an SMTP mailbox (aiosmtpd) and the Stripe
  stand-in as its own process;
- ``database``: databases of the run's own and the cached migrated template they are copied from;
- ``product``: the environment of the product with production settings (debug off, Stripe the
  stand-in on loopback) and the commands of gunicorn, the Celery worker and beat.

Everything talks to 127.0.0.1 only and stops only what it started.
"""
