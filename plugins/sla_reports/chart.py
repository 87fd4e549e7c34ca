"""Inline SVG of one tenant's month: uptime against its target, and the error budget left, day by day.

Drawn on the server from the daily snapshots so that the page needs no script, no CDN and no network.
Each snapshot is placed at the midnight of its ``as_of_date``: a daily run's figures cover the month
up to that midnight, and the final report's date is the first day of the next month (the x axis' end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

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


def tenant_chart(
    tenant: str, plan: str, status: str, target: float | None, month: list[date], points: list[Point]
) -> str:
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

    label = f"{tenant} ({plan}): uptime and error budget left over {month[0]:%B %Y}"
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="tenant-chart {escape(status)}" '
            f'data-tenant="{escape(tenant)}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
            f'height="{HEIGHT}" role="img" aria-label="{escape(label)}">'
        ),
        f"<title>{escape(label)}</title>",
        f'<text class="chart-title" x="{_LEFT}" y="14">{escape(tenant)} · {escape(plan)}</text>',
        (
            f'<text class="chart-status" x="{WIDTH - _RIGHT}" y="14" text-anchor="end">'
            f"{escape(STATUS_LABELS[status])}</text>"
        ),
    ]
    parts += _strip("uptime", low, 1.0, up_y, _percent(low), "100%")
    if target is not None:
        parts.append(_hline("target", up_y(target), f"target {_percent(target)}"))
    parts += _strip("budget left", floor, 1.0, budget_y, _percent(floor, 0), "100%")
    parts.append(_hline("zero", budget_y(0.0), "budget spent"))
    for day in _TICK_DAYS:
        if day <= len(month):
            x = x_of(month[day - 1])
            parts.append(
                f'<line class="tick" x1="{x:.1f}" y1="{_BUDGET_BOTTOM}" x2="{x:.1f}" '
                f'y2="{_BUDGET_BOTTOM + 4}"/><text class="axis" x="{x:.1f}" '
                f'y="{_BUDGET_BOTTOM + 15}" text-anchor="middle">{day}</text>'
            )
    if not uptimes and not budgets:
        x, y = (_LEFT + WIDTH - _RIGHT) / 2, (_UPTIME_TOP + _UPTIME_BOTTOM) / 2 + 4
        parts.append(
            f'<text class="no-data" x="{x:.0f}" y="{y:.0f}" text-anchor="middle">'
            "no monitor data this month</text>"
        )
    parts += _series("uptime", points, lambda p: p.uptime_ratio, x_of, up_y, low, "uptime")
    parts += _series(
        "budget", points, lambda p: p.budget_remaining_ratio, x_of, budget_y, floor, "budget left"
    )
    parts.append("</svg>")
    return "".join(parts)


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


def _strip(name: str, low: float, high: float, y_of, low_label: str, high_label: str) -> list[str]:
    top, bottom = y_of(high), y_of(low)
    return [
        f'<rect class="strip" x="{_LEFT}" y="{top:.1f}" width="{WIDTH - _LEFT - _RIGHT}" '
        f'height="{bottom - top:.1f}"/>',
        f'<text class="axis" x="{_LEFT - 4}" y="{top + 4:.1f}" text-anchor="end">{high_label}</text>',
        f'<text class="axis" x="{_LEFT - 4}" y="{bottom:.1f}" text-anchor="end">{low_label}</text>',
        f'<text class="strip-name" x="{_LEFT + 3}" y="{top - 3:.1f}">{escape(name)}</text>',
    ]


def _hline(kind: str, y: float, title: str) -> str:
    return (
        f'<line class="{kind}" x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}">'
        f"<title>{escape(title)}</title></line>"
    )


def _series(kind: str, points: list[Point], value, x_of, y_of, low: float, what: str) -> list[str]:
    """A polyline per run of days with a value (no data breaks the line), then a dot per day with its
    figure as a tooltip."""
    lines, dots, run = [], [], []
    for point in sorted(points, key=lambda p: p.day):
        v = value(point)
        if v is None:
            lines.extend(_polyline(kind, run))
            run = []
            continue
        x, y = x_of(point.day), y_of(v)
        run.append((x, y))
        clipped = " (below the chart)" if v < low else ""
        dots.append(
            f'<circle class="{kind}" cx="{x:.1f}" cy="{y:.1f}" r="2.2">'
            f"<title>{point.day:%d %b}: {what} {escape(_percent(v))}{clipped}</title></circle>"
        )
    lines.extend(_polyline(kind, run))
    return lines + dots


def _polyline(kind: str, run: list[tuple[float, float]]) -> list[str]:
    if len(run) < 2:
        return []
    return [f'<polyline class="{kind}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in run)}"/>']


def _percent(ratio: float, decimals: int | None = None) -> str:
    if decimals is None:
        # enough decimals to tell 99.95% from 99.9%: SLA targets differ in the third digit
        decimals = 0 if ratio in (0.0, 1.0) else 3 if abs(ratio) >= 0.99 else 2 if abs(ratio) >= 0.9 else 1
    return f"{ratio * 100:.{decimals}f}%"
