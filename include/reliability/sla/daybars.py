"""A tenant's period day by day, from its monitors' stored log entries: a bar per day (like a status
page) and the error budget left at the end of each day.

Each day's bar holds the tenant's monitored and counted down time that day (UTC days; a stretch
crossing midnight counts on both days with its part in each); its level is ``up`` with no downtime,
``minor`` within the day's share of the plan's budget ((1 - target) x 24 h), ``major`` above it,
``none`` with no monitored time, ``future`` after the report's time. The budget left at the end of a
day is the report's ``budget_remaining_ratio`` had the report been made then (``budget.error_budget``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reliability.sla.budget import error_budget
from reliability.sla.details import MonitorTimeline
from reliability.sla.uptime import (
    CountedIntervals,
    MaintenancePolicy,
    MonitorInput,
    combine,
    counted_intervals,
    figures,
)

DAY = 86_400
WEEK = 7 * DAY


@dataclass(frozen=True)
class DayBar:
    day: date
    monitored_seconds: int
    down_seconds: int
    level: str  # up | minor | major | none | future
    budget_remaining_ratio: float | None  # at the end of the day (or at the report's time), None when unknown


def tenant_counted(
    monitors: Iterable[MonitorTimeline], start: int, until: int, policy: MaintenancePolicy
) -> tuple[dict[int, CountedIntervals], CountedIntervals]:
    """Per monitor and for the tenant (rule 14): monitored and counted down time in ``[start, until)``.

    Starts a week before ``start`` at the latest so that burn windows reaching back are complete."""
    begin = min(start, until - WEEK)
    per_monitor = {
        m.monitor_id: counted_intervals(
            MonitorInput(m.created_at, m.status, m.entries, m.maintenance), begin, until, policy
        )
        for m in monitors
    }
    return per_monitor, combine(per_monitor.values())


def day_bars(counted: CountedIntervals, start: int, end: int, until: int, target: float) -> list[DayBar]:
    """A bar per UTC day of ``[start, end)``; days from ``until`` on are ``future``."""
    allowance = (1.0 - target) * DAY
    bars = []
    for day_start in range(start, end, DAY):
        day = datetime.fromtimestamp(day_start, UTC).date()
        if day_start >= until:
            bars.append(DayBar(day, 0, 0, "future", None))
            continue
        cut = min(day_start + DAY, until)
        today = figures(counted, day_start, cut)
        budget = error_budget(
            figures(counted, start, cut),
            figures(counted, cut - DAY, cut),
            figures(counted, cut - WEEK, cut),
            target,
            end - cut,
        )
        if today.monitored_seconds <= 0:
            level = "none"
        elif today.downtime_seconds == 0:
            level = "up"
        else:
            level = "minor" if today.downtime_seconds <= allowance else "major"
        bars.append(
            DayBar(day, today.monitored_seconds, today.downtime_seconds, level, budget.remaining_ratio)
        )
    return bars
