"""Stripe subscription statuses, grouped by what they mean here. The one place these sets live.

Every decision that turns on a subscription's status (entitlements, checkout, plan changes,
grace periods, reconciliation, the pages) reads one of these sets, so they cannot drift apart.
"""

from __future__ import annotations

# Paid features without conditions.
PAID_STATUSES = frozenset({"active", "trialing"})
# Still runs: blocks a second checkout (one live subscription per user). ("incomplete" is left
# out: a first payment that never succeeded must not lock the person out of checkout.)
LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})
# May be cancelled, resumed or moved to another plan by its owner.
CHANGEABLE_STATUSES = frozenset({"active", "trialing", "past_due"})
# Paid features for the grace period after the renewal first failed.
GRACE_STATUS = "past_due"
# A grace period, if any, is over: paid again, or ended for good.
GRACE_ENDING_STATUSES = PAID_STATUSES | {"canceled", "incomplete_expired"}
