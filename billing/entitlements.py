"""What a user may do, and how much: the one place other apps ask.

Until the billing issue lands every user gets the free plan's limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Entitlements:
    plan: str
    is_paid: bool
    max_post_length: int
    max_images_per_post: int
    posts_per_day: int
    max_api_keys: int
    api_requests_per_minute: int


FREE = Entitlements(
    plan="free",
    is_paid=False,
    max_post_length=500,
    max_images_per_post=4,
    posts_per_day=100,
    max_api_keys=2,
    api_requests_per_minute=60,
)


def entitlements_for(*, user: User) -> Entitlements:
    """The user's current entitlements."""
    return FREE
