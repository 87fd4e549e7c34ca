"""A tenant's incidents over a period, recomputed from its monitors' stored log entries.

Every stretch a monitor was down (its log entries, RULES.md rule 4-5) that falls in the period is listed,
cut where the rules cut it: the part before the monitor existed (rule 7) and the parts inside a maintenance
window (rule 10) are *excluded*, each with the rule; the rest is *counted* (one incident per counted
stretch, rule 13, so a window in the middle of an outage leaves two). An outage running into the period
counts from 00:00 on the 1st (rule 3). Paused stretches (rule 9) and maintenance windows are listed
separately as time left out. The counted stretches are exactly the report's downtime (``uptime.counted_intervals``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reliability.sla import intervals as iv
from reliability.sla.details import MonitorTimeline, Reason
from reliability.sla.intervals import Interval
from reliability.sla.timeline import State, segments

RULE_BEFORE_CREATION = "before the monitor existed (rule 7)"
RULE_MAINTENANCE = "maintenance window (rule 10)"
RULE_PAUSED = "paused (rule 9)"
NOTE_EARLIER = "began before the period: counted from its start (rule 3)"
NOTE_ONGOING = "ongoing: counted until the report's time (rule 8)"


@dataclass(frozen=True)
class Incident:
    monitor_id: int
    monitor_name: str
    start: int  # epoch seconds, within the period
    end: int
    counted: bool
    rule: str | None  # why it is excluded; None when counted
    note: str | None  # e.g. began before the period
    reason: Reason

    @property
    def duration_seconds(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class LeftOut:
    """Time some monitors were not counted as monitored: a pause or a maintenance window (one row for
    the monitors that share it)."""

    start: int
    end: int
    rule: str
    monitors: tuple[str, ...]  # names


def monitor_incidents(monitor: MonitorTimeline, start: int, until: int) -> list[Incident]:
    """The down stretches of ``monitor`` within ``[start, until)``, cut and marked by the rules."""
    first = min([start, *(e.datetime for e in monitor.entries)])
    maintenance = iv.union(monitor.maintenance)
    found = []
    for seg in segments(monitor.entries, monitor.status, first, until):
        if seg.state != State.DOWN or seg.end <= start:
            continue
        reason = monitor.reasons.get(seg.start, Reason(None, None))
        lo, hi = max(seg.start, start), seg.end
        pieces = [(lo, min(hi, monitor.created_at), RULE_BEFORE_CREATION)] if lo < monitor.created_at else []
        existing = (max(lo, monitor.created_at), hi)
        pieces += [(s, e, RULE_MAINTENANCE) for s, e in iv.clip(maintenance, *existing)]
        pieces += [(s, e, None) for s, e in iv.difference([existing], maintenance)]
        for s, e, rule in sorted(pieces):
            if e <= s:
                continue
            notes = [NOTE_EARLIER] if s == start and seg.start < start else []
            if e == until and seg.end == until and rule is None:
                notes.append(NOTE_ONGOING)
            found.append(
                Incident(
                    monitor.monitor_id,
                    monitor.name,
                    s,
                    e,
                    rule is None,
                    rule,
                    "; ".join(notes) or None,
                    reason,
                )
            )
    return found


def tenant_incidents(monitors: Iterable[MonitorTimeline], start: int, until: int) -> list[Incident]:
    """Every monitor's incidents, by start time (then monitor)."""
    found = [i for m in monitors for i in monitor_incidents(m, start, until)]
    return sorted(found, key=lambda i: (i.start, i.monitor_id, i.end))


def left_out(monitors: Iterable[MonitorTimeline], start: int, until: int) -> list[LeftOut]:
    """Pauses and maintenance windows of the monitors within ``[start, until)``, by start time; a span
    several monitors share (a maintenance window on all of them) is one row naming them all."""
    shared: dict[tuple[int, int, str], list[str]] = {}
    for m in monitors:
        begin = max(start, m.created_at)
        first = min([begin, *(e.datetime for e in m.entries)])
        paused = [
            (s.start, s.end) for s in segments(m.entries, m.status, first, until) if s.state == State.PAUSED
        ]
        spans = [(s, e, RULE_PAUSED) for s, e in iv.clip(paused, begin, until)]
        spans += [(s, e, RULE_MAINTENANCE) for s, e in iv.clip(m.maintenance, start, until)]
        for span in spans:
            shared.setdefault(span, []).append(m.name)
    return [LeftOut(s, e, rule, tuple(names)) for (s, e, rule), names in sorted(shared.items())]


def counted_down(incidents: Iterable[Incident]) -> list[Interval]:
    """The tenant's counted downtime: the union of the counted incidents (rule 14)."""
    return iv.union((i.start, i.end) for i in incidents if i.counted)
