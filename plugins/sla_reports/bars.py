"""Inline SVG of one tenant's month from its stored logs: a bar per day coloured by downtime (like a
status page), and under it the error budget left at the end of each day. ``templates/daybars.svg``
draws it; this module only places things."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from reliability.core.formatting import format_duration
from sla_reports.templating import pct, render

BAR, GAP, LEFT, RIGHT = 12, 2, 48, 8
BARS_TOP, BARS_BOTTOM = 18, 58
BURN_TOP, BURN_BOTTOM = 92, 150
HEIGHT = 166
# The drawing's fixed geometry, as the template names it.
GEOMETRY = {
    "height": HEIGHT,
    "bar_width": BAR,
    "left": LEFT,
    "right": RIGHT,
    "bars_top": BARS_TOP,
    "bars_bottom": BARS_BOTTOM,
    "burn_top": BURN_TOP,
    "burn_bottom": BURN_BOTTOM,
}
LEVEL_LABELS = {
    "up": "no downtime",
    "minor": "downtime within the day's share of the budget",
    "major": "downtime above the day's share of the budget",
    "none": "not monitored",
    "future": "not yet reported",
}


@dataclass(frozen=True)
class _Bar:
    x: float
    level: str
    day: int
    title: str


def day_bars_chart(tenant: str, bars) -> Markup:
    """One ``<svg>`` for ``bars`` (``reliability.sla.daybars.DayBar``, one per day of the month)."""
    width = LEFT + len(bars) * (BAR + GAP) + RIGHT
    drawn = []
    for i, b in enumerate(bars):
        parts = [f"{b.day:%d %b}: {LEVEL_LABELS[b.level]}"]
        if b.level not in ("future", "none"):
            parts.append(
                f"down {format_duration(b.down_seconds)} of {format_duration(b.monitored_seconds)} monitored"
            )
        if b.budget_remaining_ratio is not None:
            parts.append(f"budget left {pct(b.budget_remaining_ratio, 1)}")
        drawn.append(_Bar(LEFT + i * (BAR + GAP), b.level, b.day.day, "; ".join(parts)))
    budgets = [b.budget_remaining_ratio for b in bars if b.budget_remaining_ratio is not None]
    floor = min([0.0, *budgets])
    floor = max(floor, -1.0)  # an overspent budget is drawn down to -100%; the tooltips have the figure

    def y_of(ratio: float) -> float:
        clamped = min(max(ratio, floor), 1.0)
        return BURN_BOTTOM - (clamped - floor) / (1.0 - floor) * (BURN_BOTTOM - BURN_TOP)

    line = [
        (bar.x + BAR / 2, y_of(b.budget_remaining_ratio))
        for bar, b in zip(drawn, bars)
        if b.budget_remaining_ratio is not None
    ]
    return Markup(  # noqa: S704 - the template escaped every value
        render(
            "daybars.svg",
            tenant=tenant,
            bars=drawn,
            line=line,
            width=width,
            zero_y=y_of(0.0),
            **GEOMETRY,
            floor_label=pct(floor, 0),
        )
    )
