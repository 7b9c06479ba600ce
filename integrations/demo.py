"""Demo data: one read-only API key for alice, printed once so it can be tried with curl."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from integrations.models import ApiKey
from integrations.services import api_key_issue


def seed(*, users: list[User], stdout: Any) -> None:
    alice = next((u for u in users if u.handle == "alice"), None)
    if alice is None or ApiKey.objects.filter(user=alice, name="Demo script").exists():
        return  # idempotent: the key was made (and shown) on an earlier run
    issued = api_key_issue(
        user=alice,
        name="Demo script",
        scopes=["profile:read", "posts:read", "follows:read"],
        expires_in_days=30,
    )
    stdout.write(f"  API key for @alice (shown once): {issued.token}")
    stdout.write(f'    curl -H "Authorization: Bearer {issued.token}" http://127.0.0.1:8000/api/v1/me/')
