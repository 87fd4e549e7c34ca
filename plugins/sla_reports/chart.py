"""Inline SVG of one tenant's month: uptime against its target, and the error budget left, day by day.

Drawn on the server from the daily snapshots so that the page needs no script, no CDN and no network.
Each snapshot is placed at the midnight of its ``as_of_date``: a daily run's figures cover the month
up to that midnight, and the final report's date is the first day of the next month (the x axis' end).
This module computes the geometry; ``templates/chart.svg`` draws it (escaping every name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from sla_reports.templating import render

WIDTH, HEIGHT = 320, 176
_LEFT, _RIGHT = 52, 10
_UPTIME_TOP, _UPTIME_BOTTOM = 30, 82
_BUDGET_TOP, _BUDGET_BOTTOM = 100, 152
_BUDGET_FLOOR = -1.0  # an overspent budget is drawn down to -100%; the point's tooltip has the exact figure
_TICK_DAYS = (1, 8, 15, 22, 29)
STATUS_LABELS = {"breach": "BREACH", "at-risk": "at risk", "ok": "ok", "no-data": "no data"}


@dataclass(frozen=True)
class Point:
    day: date
    uptime_ratio: float | None
    budget_remaining_ratio: float | None


@dataclass(frozen=True)
class _Line:
    kind: str
    y: float
    title: str


@dataclass(frozen=True)
class _Strip:
    name: str
    top: float
    bottom: float
    high_label: str
    low_label: str
    lines: list[_Line] = field(default_factory=list)


@dataclass(frozen=True)
class _Dot:
    kind: str
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class _Polyline:
    kind: str
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class _Chart:
    tenant: str
    plan: str
    status: str
    status_label: str
    label: str
    strips: list[_Strip]
    ticks: list[dict]
    no_data: tuple[float, float] | None
    polylines: list[_Polyline]
    dots: list[_Dot]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    right: int = _RIGHT
    axis_y: int = _BUDGET_BOTTOM


def tenant_chart(
    tenant: str, plan: str, status: str, target: float | None, month: list[date], points: list[Point]
) -> Markup:
    """One ``<svg>``: uptime (top strip, target dashed) and budget left (bottom strip, zero dashed)."""
    x_of = _x_scale(month)
    uptimes = [p.uptime_ratio for p in points if p.uptime_ratio is not None]
    # down to twice the allowed downtime, or a little below the lowest uptime, so a line never hugs the floor
    lowest = min(uptimes, default=1.0)
    low = min(2 * target - 1 if target is not None else 1.0, lowest - (1.0 - lowest) * 0.15)
    low = max(0.0, min(low, 1.0 - 1e-4))
    up_y = _y_scale(low, 1.0, _UPTIME_TOP, _UPTIME_BOTTOM)
    budgets = [p.budget_remaining_ratio for p in points if p.budget_remaining_ratio is not None]
    floor = max(_BUDGET_FLOOR, min([0.0, *budgets]))
    budget_y = _y_scale(floor, 1.0, _BUDGET_TOP, _BUDGET_BOTTOM)

    target_line = [_Line("target", up_y(target), f"target {_percent(target)}")] if target is not None else []
    strips = [
        _Strip("uptime", up_y(1.0), up_y(low), "100%", _percent(low), target_line),
        _Strip(
            "budget left",
            budget_y(1.0),
            budget_y(floor),
            "100%",
            _percent(floor, 0),
            [_Line("zero", budget_y(0.0), "budget spent")],
        ),
    ]
    ticks = [{"day": day, "x": x_of(month[day - 1])} for day in _TICK_DAYS if day <= len(month)]
    no_data = None
    if not uptimes and not budgets:
        no_data = ((_LEFT + WIDTH - _RIGHT) / 2, (_UPTIME_TOP + _UPTIME_BOTTOM) / 2 + 4)
    up_lines, up_dots = _series("uptime", points, lambda p: p.uptime_ratio, x_of, up_y, low, "uptime")
    budget_lines, budget_dots = _series(
        "budget", points, lambda p: p.budget_remaining_ratio, x_of, budget_y, floor, "budget left"
    )
    chart = _Chart(
        tenant=tenant,
        plan=plan,
        status=status,
        status_label=STATUS_LABELS[status],
        label=f"{tenant} ({plan}): uptime and error budget left over {month[0]:%B %Y}",
        strips=strips,
        ticks=ticks,
        no_data=no_data,
        polylines=up_lines + budget_lines,
        dots=up_dots + budget_dots,
    )
    return Markup(render("chart.svg", c=chart))  # noqa: S704 - the template escaped every value


def _x_scale(month: list[date]):
    start, days = month[0], len(month)

    def x_of(day: date) -> float:
        share = min(max((day - start).days / days, 0.0), 1.0)
        return _LEFT + share * (WIDTH - _LEFT - _RIGHT)

    return x_of


def _y_scale(low: float, high: float, top: int, bottom: int):
    def y_of(value: float) -> float:
        clamped = min(max(value, low), high)
        return bottom - (clamped - low) / (high - low) * (bottom - top)

    return y_of


def _series(kind: str, points: list[Point], value, x_of, y_of, low: float, what: str):
    """A polyline per run of days with a value (no data breaks the line), then a dot per day with its
    figure as a tooltip."""
    lines: list[_Polyline] = []
    dots: list[_Dot] = []
    run: list[tuple[float, float]] = []
    for point in sorted(points, key=lambda p: p.day):
        v = value(point)
        if v is None:
            if len(run) > 1:
                lines.append(_Polyline(kind, run))
            run = []
            continue
        x, y = x_of(point.day), y_of(v)
        run.append((x, y))
        clipped = " (below the chart)" if v < low else ""
        dots.append(_Dot(kind, x, y, f"{point.day:%d %b}: {what} {_percent(v)}{clipped}"))
    if len(run) > 1:
        lines.append(_Polyline(kind, run))
    return lines, dots


def _percent(ratio: float, decimals: int | None = None) -> str:
    if decimals is None:
        # enough decimals to tell 99.95% from 99.9%: SLA targets differ in the third digit
        decimals = 0 if ratio in (0.0, 1.0) else 3 if abs(ratio) >= 0.99 else 2 if abs(ratio) >= 0.9 else 1
    return f"{ratio * 100:.{decimals}f}%"
