"""Reads for moderation: a user's strike count."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from social.models import ModerationAction

# The decisions against a user that count as a strike; each counts once it is made, even if a
# later decision undoes it (the history shows both).
STRIKE_KINDS = (ModerationAction.Kind.HIDE, ModerationAction.Kind.WARN, ModerationAction.Kind.SUSPEND)


def user_strike_count(*, user_id: int | None) -> int:
    """How many hides, warnings and suspensions moderators decided against the user."""
    if user_id is None:
        return 0
    return ModerationAction.objects.filter(target_user_id=user_id, kind__in=STRIKE_KINDS).count()


def strikes_subquery(user_field: str) -> Coalesce:
    """An annotation counting the strikes of the user in ``user_field`` of each row (one
    subquery, for list pages)."""
    counted = (
        ModerationAction.objects.filter(target_user_id=OuterRef(user_field), kind__in=STRIKE_KINDS)
        .order_by()
        .values("target_user_id")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
