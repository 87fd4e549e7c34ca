"""Where monitors and their logs come from: the ``UptimeSource`` protocol and what it returns.

UptimeRobot implements it (API v2 ``uptimerobot.py``, API v3 ``uptimerobot_v3.py``); another provider
(Pingdom, ...) only needs to return the same :class:`Snapshot`: monitors with state-change log entries in
UptimeRobot's four types, and maintenance windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reliability.sla.maintenance import MaintenanceWindow
from reliability.sla.timeline import LogEntry


@dataclass(frozen=True)
class FetchRequest:
    logs_start: int  # epoch seconds; early enough to know each monitor's state when the period starts
    # "now" of the report; a source returns entries at least up to here and, if it reports monitors' current
    # status, up to the present: only then does a monitor without entries show its status held throughout
    logs_end: int
    uptime_range: tuple[int, int]  # the provider's own uptime figure for this range, as a cross-check


@dataclass(frozen=True)
class SourceMonitor:
    id: int
    name: str
    url: str
    created_at: int
    status: int  # UptimeRobot's codes: 0 paused, 1 not checked yet, 2 up, 8 seems down, 9 down
    entries: tuple[LogEntry, ...]
    maintenance_window_ids: tuple[int, ...] = ()
    provider_uptime_ratio: float | None = None  # the provider's figure for FetchRequest.uptime_range
    # for the tenant pages only (``details.py``), never read by the report: the provider's reason of each
    # "down" entry by the entry's time, (code, detail), and its own uptime of each UTC day of
    # FetchRequest.uptime_range by the day's start (days before the monitor existed left out)
    log_reasons: Mapping[int, tuple[str | None, str | None]] = field(default_factory=dict, hash=False)
    provider_daily_uptime: Mapping[int, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Snapshot:
    source: str
    monitors: tuple[SourceMonitor, ...]
    maintenance_windows: Mapping[int, MaintenanceWindow] = field(default_factory=dict)
    requests: int = 0  # API calls it took


class UptimeSource(Protocol):
    name: str

    def fetch(self, request: FetchRequest) -> Snapshot:
        """Everything about every monitor, or an exception: never a partial snapshot."""
        ...
