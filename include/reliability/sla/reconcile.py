"""Our uptime of each monitor and UTC day next to UptimeRobot's own (``custom_uptime_ranges``, a range a
day), and for every difference over the tolerance (``cross_check.tolerance``) its cause.

Causes, first that applies: the monitor was created that day (UptimeRobot counts from its first check,
we from ``create_datetime``, rule 7); a maintenance window that day (we leave it out, UptimeRobot does
not, rule 10); a pause that day (rule 9); missing logs (part of the day no log entry tells the state,
or we have no monitored time at all); otherwise *unexplained*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reliability.sla import intervals as iv
from reliability.sla.details import MonitorTimeline
from reliability.sla.timeline import State, segments
from reliability.sla.uptime import CountedIntervals, figures

DAY = 86_400
CREATED = "monitor created that day"
MAINTENANCE = "maintenance excluded"
PAUSED = "paused"
MISSING_LOGS = "missing logs"
UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class DayCheck:
    monitor_id: int
    monitor_name: str
    day: date
    ours: float | None
    theirs: float
    cause: str | None  # None: within the tolerance

    @property
    def difference(self) -> float | None:
        return None if self.ours is None else self.ours - self.theirs


@dataclass(frozen=True)
class Reconciliation:
    compared: int  # monitor-days with UptimeRobot's figure
    differences: list[DayCheck]  # those over the tolerance, by day then monitor

    @property
    def unexplained(self) -> int:
        return sum(1 for d in self.differences if d.cause == UNEXPLAINED)


def reconcile(
    monitors: Iterable[MonitorTimeline],
    counted: Mapping[int, CountedIntervals],
    theirs: Mapping[int, Mapping[date, float]],
    until: int,
    tolerance: float,
) -> Reconciliation:
    """Each monitor-day UptimeRobot gave a figure for (up to ``until``), checked against ours."""
    compared, differences = 0, []
    for m in monitors:
        days = theirs.get(m.monitor_id, {})
        if not days:
            continue
        first = min([until, *(e.datetime for e in m.entries)])
        states = segments(m.entries, m.status, min(first, *(_start(d) for d in days)), until)
        for day, ratio in sorted(days.items()):
            day_start = _start(day)
            day_end = min(day_start + DAY, until)
            if day_start >= until:
                continue
            compared += 1
            ours = figures(counted[m.monitor_id], day_start, day_end).uptime_ratio
            if ours is not None and abs(ours - ratio) <= tolerance:
                continue
            differences.append(
                DayCheck(m.monitor_id, m.name, day, ours, ratio, _cause(m, states, day_start, day_end, ours))
            )
    return Reconciliation(compared, sorted(differences, key=lambda d: (d.day, d.monitor_id)))


def _cause(m: MonitorTimeline, states, day_start: int, day_end: int, ours: float | None) -> str:
    if day_start <= m.created_at < day_end:
        return CREATED
    if iv.clip(m.maintenance, day_start, day_end):
        return MAINTENANCE
    overlapping = {s.state for s in states if s.start < day_end and s.end > day_start}
    if State.PAUSED in overlapping:
        return PAUSED
    if ours is None or State.UNKNOWN in overlapping:
        return MISSING_LOGS
    return UNEXPLAINED


def _start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
