"""Plans and their limits.

One source of truth: the Stripe product's metadata, synced by dj-stripe into ``Product.metadata``.
A plan product carries ``plan=<code>`` plus the limits (``max_post_length``,
``max_images_per_post``, ``posts_per_day``, ``max_api_keys``, ``api_requests_per_minute``) and
optionally ``trial_days`` and ``rank`` (order on the pricing page). A limit missing from the
metadata falls back to the free plan's value, so a half-configured product never lowers anyone
below free. The free plan has no Stripe product: its limits are ``billing.entitlements.FREE``.

Why metadata rather than a table: staff edit the catalogue in one place (the Stripe dashboard,
or ``billing_setup_local`` for the stand-in); dj-stripe already syncs it by webhook and by
``billing_sync``, so no second copy can drift from what customers are charged for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LIMIT_KEYS = (
    "max_post_length",
    "max_images_per_post",
    "posts_per_day",
    "max_api_keys",
    "api_requests_per_minute",
)


@dataclass(frozen=True)
class Entitlements:
    """What a user may do, and how much (``billing.entitlements.entitlements_get_for_user`` answers it)."""

    plan: str
    is_paid: bool
    max_post_length: int
    max_images_per_post: int
    posts_per_day: int
    max_api_keys: int
    api_requests_per_minute: int


# The free plan's limits: every paid plan's floor. Defined here, below entitlements and
# selectors, because both need it (it used to sit in entitlements behind a function-local import).
FREE = Entitlements(
    plan="free",
    is_paid=False,
    max_post_length=500,
    max_images_per_post=4,
    posts_per_day=100,
    max_api_keys=2,
    api_requests_per_minute=60,
)


@dataclass(frozen=True)
class PlanLimits:
    code: str
    name: str
    limits: dict[str, int]
    trial_days: int = 0
    rank: int = 0
    features: list[str] = field(default_factory=list)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def free_plan() -> PlanLimits:
    return PlanLimits(
        code="free",
        name="Free",
        limits={key: getattr(FREE, key) for key in LIMIT_KEYS},
        # No extra features: the pricing page and the API already list every plan's limits, and
        # a hand-written copy of them here repeated them on the page and could drift from FREE.
        features=[],
    )


def plan_from_metadata(*, name: str, metadata: dict[str, Any] | None) -> PlanLimits | None:
    """The plan a product stands for, or None when the product is not a plan."""
    metadata = metadata or {}
    code = str(metadata.get("plan") or "").strip().lower()
    if not code or code == "free":
        return None
    base = free_plan().limits
    limits = {key: max(_int(metadata.get(key), base[key]), base[key]) for key in LIMIT_KEYS}
    features = [f.strip() for f in str(metadata.get("features") or "").split(";") if f.strip()]
    return PlanLimits(
        code=code,
        name=name,
        limits=limits,
        trial_days=max(_int(metadata.get("trial_days"), 0), 0),
        rank=_int(metadata.get("rank"), 100),
        features=features,
    )
