"""API key scopes and how views declare the scopes they need.

Every API view sets ``required_scopes``::

    class PostListApi(APIView):
        required_scopes = RequiredScopes(read="posts:read", write="posts:write")

Safe methods (GET, HEAD, OPTIONS) need ``read``; the others need ``write``. A view that leaves a
side as ``None`` refuses API keys for those methods, and a view with no declaration refuses API
keys altogether (fail closed). Session-authenticated requests are not limited by scopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SCOPES: dict[str, str] = {
    "profile:read": "Read your profile and settings",
    "profile:write": "Change your profile",
    "posts:read": "Read posts, feeds and search",
    "posts:write": "Create, edit and delete posts, comments, likes and reposts",
    "follows:read": "Read followers, following, blocks and mutes",
    "follows:write": "Follow, unfollow, block and mute",
    "notifications:read": "Read notifications",
    "billing:read": "Read your plan, subscription and invoices",
    "referrals:read": "Read your referral code, stats and rewards",
    "admin": "Staff only: moderation endpoints",
}
STAFF_ONLY_SCOPES = frozenset({"admin"})


@dataclass(frozen=True)
class RequiredScopes:
    """The scope a key needs per method: ``read`` for safe methods, ``write`` for the others.

    ``methods`` overrides single methods, e.g. ``methods={"DELETE": None}`` refuses keys for
    DELETE while ``write`` still covers PATCH.
    """

    read: str | None = None
    write: str | None = None
    methods: Mapping[str, str | None] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        for scope in (self.read, self.write, *self.methods.values()):
            if scope is not None and scope not in SCOPES:
                raise ValueError(f"Unknown scope {scope!r}")

    def for_method(self, method: str) -> str | None:
        method = method.upper()
        if method in self.methods:
            return self.methods[method]
        return self.read if method in SAFE_METHODS else self.write
