"""Celery tasks of the staff panel, each named after the one service it calls."""

from __future__ import annotations

from celery import shared_task

from staff.services import daily_figures_update as _daily_figures_update


@shared_task(name="staff.tasks.daily_figures_update")
def daily_figures_update() -> int:
    """Closes the finished days and refreshes today's provisional figures (beat: every 15 min)."""
    return len(_daily_figures_update())
