"""The product's processes with production settings on loopback: their environment (debug off,
Stripe the stand-in over plain HTTP, which production settings accept only as a rehearsal: a
test key, a loopback address and ``PRODUCTION_REHEARSAL=1``; config/settings.py) and commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from production_shape.processes import ROOT

BIN = Path(sys.executable).parent
# What only the product reads to reach the stand-in: the stand-in itself is Stripe.
PRODUCT_STRIPE = (
    "STRIPE_API_HOST",
    "PRODUCTION_REHEARSAL",
    "STRIPE_TEST_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
)


def clean_env() -> dict[str, str]:
    """A clean process environment, as in the container (nothing of the caller's shell)."""
    return {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - a fallback HOME for the children
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def production_env(
    base: Mapping[str, str],
    *,
    secret_key: str,
    database_url: str,
    redis_url: str,
    email_url: str,
    stripe_api_host: str,
    stripe_key: str,
    **more: str,
) -> dict[str, str]:
    """``base`` with production settings: debug off, this run's services, Stripe the stand-in at
    ``stripe_api_host``; ``more`` adds or replaces variables."""
    env = {name: value for name, value in base.items() if name != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_TESTING="0",
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_URL=email_url,
        STRIPE_API_HOST=stripe_api_host,
        PRODUCTION_REHEARSAL="1",
        STRIPE_TEST_SECRET_KEY=stripe_key,
    )
    env.update(more)
    return env


def without_product_stripe(env: Mapping[str, str]) -> dict[str, str]:
    """The product's environment for the stand-in: without the product's Stripe settings."""
    return {name: value for name, value in env.items() if name not in PRODUCT_STRIPE}


def gunicorn_command(port: int, *extra: str) -> list[str]:
    """gunicorn with the production ``gunicorn.conf.py`` on 127.0.0.1:``port``."""
    return [
        str(BIN / "gunicorn"),
        "config.wsgi:application",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        *extra,
    ]


def worker_command(name: str, concurrency: int = 2) -> list[str]:
    return [
        str(BIN / "celery"),
        "-A",
        "config",
        "worker",
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "-n",
        f"{name}@%h",
        "--without-gossip",
        "--without-mingle",
    ]


def beat_command(schedule: Path) -> list[str]:
    return [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO", "--schedule", str(schedule)]
