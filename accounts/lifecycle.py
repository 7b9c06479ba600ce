"""What each app contributes when a user exports their data or deletes their account.

Every app that stores personal data registers, in its ``AppConfig.ready()``:
- an exporter: ``(user) -> JSON-serialisable data``, placed under its section name;
- an eraser: ``(user) -> None``, run inside the deletion transaction, which removes or
  anonymises that app's data (and may schedule outbound calls with ``transaction.on_commit``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

Exporter = Callable[["User"], Any]
Eraser = Callable[["User"], None]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_exporter(section: str, exporter: Exporter) -> None:
    _exporters[section] = exporter


def register_eraser(section: str, eraser: Eraser) -> None:
    _erasers[section] = eraser


def exporters() -> dict[str, Exporter]:
    return dict(_exporters)


def erasers() -> dict[str, Eraser]:
    return dict(_erasers)
