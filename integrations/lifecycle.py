"""What integrations contributes to a data export and to account deletion (registered in
``IntegrationsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from integrations.models import ApiKey


def integrations_export(*, user: User) -> list[dict[str, Any]]:
    """The user's keys: what they are, never anything that could rebuild one."""
    return [
        {
            "id": key.public_id,
            "name": key.name,
            "scopes": key.scopes,
            "status": key.status,
            "created_at": key.created_at.isoformat(),
            "expires_at": key.expires_at.isoformat(),
            "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
            "last_used_ip": key.last_used_ip,
            "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "addresses": [a.ip_address for a in key.addresses.all()],
        }
        for key in ApiKey.objects.filter(user=user).prefetch_related("addresses").order_by("created_at")
    ]


@transaction.atomic
def integrations_erase(*, user: User) -> None:
    """Account deletion: the user's keys stop working and disappear with their addresses."""
    ApiKey.objects.filter(user=user).delete()
