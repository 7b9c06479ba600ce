"""Charts drawn on the server as inline SVG: no script, no style attribute (CSP-safe), sized by
CSS so they shrink on a phone. Colours come from static/staff/dashboard.css classes."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 300
HEIGHT = 80
PAD = 4


def line_chart(values: Sequence[float | int | None], *, label: str) -> SafeString:
    """A line over a shaded area, one point per day; missing days are drawn as zero."""
    points = [float(v or 0) for v in values] or [0.0]
    top = max(points) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)
    coords = [
        (PAD + i * step, HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD)) for i, value in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{PAD:.1f},{HEIGHT - PAD:.1f} {line} {coords[-1][0]:.1f},{HEIGHT - PAD:.1f}"
    last_x, last_y = coords[-1]
    # Every interpolated value is a number formatted here; only the label is text (escaped).
    body = mark_safe(  # noqa: S308  # numbers formatted above, nothing from input
        f'<polygon class="chart-area" points="{area}"/>'
        f'<polyline class="chart-line" points="{line}"/>'
        f'<circle class="chart-dot" cx="{last_x:.1f}" cy="{last_y:.1f}" r="3"/>'
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{}">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        HEIGHT,
        label,
        label,
        body,
    )
