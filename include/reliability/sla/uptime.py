"""Uptime of one monitor, and of a tenant (all its monitors together): the plain reference rules.

``vectorised.py`` computes the same figures for many monitors at once with numpy; the two must agree
(a test checks them against each other on random data). The rules are written down in ``RULES.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reliability.sla import intervals as iv
from reliability.sla.intervals import Interval
from reliability.sla.timeline import MONITORED_STATES, LogEntry, State, segments


class MaintenancePolicy(StrEnum):
    EXCLUDE = "exclude"  # maintenance time leaves both the numerator and the denominator
    COUNT_AS_UP = "count_as_up"  # maintenance time is monitored time, and never down


@dataclass(frozen=True)
class MonitorInput:
    """What the rules need to know about one monitor."""

    created_at: int
    status: int
    entries: Sequence[LogEntry]
    maintenance: Sequence[Interval] = ()


@dataclass(frozen=True)
class CountedIntervals:
    """When a monitor (or tenant) counted as monitored, and when as down (always within monitored)."""

    monitored: tuple[Interval, ...]
    down: tuple[Interval, ...]


@dataclass(frozen=True)
class UptimeFigures:
    monitored_seconds: int
    downtime_seconds: int
    incidents: int
    longest_incident_seconds: int

    @property
    def uptime_ratio(self) -> float | None:
        """None when nothing was monitored: "no data" is neither 0% nor 100%."""
        if self.monitored_seconds <= 0:
            return None
        return (self.monitored_seconds - self.downtime_seconds) / self.monitored_seconds


def counted_intervals(
    monitor: MonitorInput, start: int, end: int, policy: MaintenancePolicy = MaintenancePolicy.EXCLUDE
) -> CountedIntervals:
    """Monitored and down time of one monitor within ``[start, end)``, counted from its creation.

    ``end`` is the period's end or "now", whichever is earlier, so an ongoing incident counts until now.
    """
    start = max(start, monitor.created_at)
    states = segments(monitor.entries, monitor.status, start, end)
    monitored = [(s.start, s.end) for s in states if s.state in MONITORED_STATES]
    down = [(s.start, s.end) for s in states if s.state == State.DOWN]
    maintenance = iv.union(monitor.maintenance)
    if policy == MaintenancePolicy.EXCLUDE:
        monitored = iv.difference(monitored, maintenance)
    down = iv.difference(down, maintenance)
    return CountedIntervals(tuple(iv.union(monitored)), tuple(down))


def figures(counted: CountedIntervals, start: int, end: int) -> UptimeFigures:
    """Figures for ``[start, end)``; an incident crossing a boundary counts with its part inside."""
    down = iv.clip(counted.down, start, end)
    return UptimeFigures(
        monitored_seconds=iv.total(iv.clip(counted.monitored, start, end)),
        downtime_seconds=iv.total(down),
        incidents=len(down),
        longest_incident_seconds=max((e - s for s, e in down), default=0),
    )


def combine(members: Iterable[CountedIntervals]) -> CountedIntervals:
    """A tenant: monitored while any of its monitors is monitored, down while any of them is down."""
    members = list(members)
    return CountedIntervals(
        tuple(iv.union(i for m in members for i in m.monitored)),
        tuple(iv.union(i for m in members for i in m.down)),
    )
