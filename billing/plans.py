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

PAID_STATUSES = frozenset({"active", "trialing"})
# Statuses in which a subscription still runs and blocks a second checkout. ("incomplete" is
# left out: a first payment that never succeeded must not lock the person out of checkout.)
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})


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
    from billing.entitlements import FREE

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
