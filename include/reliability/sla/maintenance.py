"""Maintenance windows (one-off, daily, weekly, monthly) expanded into the intervals they cover.

Times are UTC: the UptimeRobot account is expected to be set to UTC (its windows follow the account's
time zone). A recurring window that starts before midnight and runs past it covers both days. A monthly
window on a day the month lacks (the 31st in November) does not occur that month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from typing import Any

from reliability.sla.intervals import Interval, clip, union

DAY = 86_400


class WindowType(IntEnum):
    ONCE = 1
    DAILY = 2
    WEEKLY = 3
    MONTHLY = 4


LAST_DAY = -1  # API v3's day of a monthly window for the last day of the month


class MaintenanceWindowInvalid(ValueError):
    pass


@dataclass(frozen=True)
class MaintenanceWindow:
    id: int
    type: WindowType
    duration_seconds: int
    start_epoch: int | None = None  # one-off windows
    start_minute: int | None = None  # recurring windows: minutes after 00:00 UTC
    # weekly: ISO weekdays 1 (Monday)..7; monthly: days of the month 1..31, or -1 for the last (API v3)
    days: tuple[int, ...] = ()
    active: bool = True
    name: str = ""

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> MaintenanceWindow:
        """Parse one window as UptimeRobot's getMWindows returns it (duration in minutes)."""
        ident = item.get("id")
        try:
            kind = WindowType(int(item["type"]))
            duration = int(item["duration"]) * 60
            raw_start = str(item["start_time"])
            days = tuple(int(v) for v in str(item.get("value") or "").split("-") if v.strip())
        except (KeyError, TypeError, ValueError) as exc:
            raise MaintenanceWindowInvalid(
                f"maintenance window {ident}: cannot read type/duration/start_time/value ({exc}); "
                "check the API response format"
            ) from None
        window = cls(
            id=int(ident),
            type=kind,
            duration_seconds=duration,
            days=days,
            active=int(item.get("status", 1)) == 1,
            name=str(item.get("friendly_name") or ""),
            **_parse_start(ident, kind, raw_start),
        )
        window.validate()
        return window

    @classmethod
    def from_api_v3(cls, item: dict[str, Any]) -> MaintenanceWindow:
        """Parse one window as API v3's ``GET /maintenance-windows`` returns it.

        ``interval`` once/daily/weekly/monthly, ``date`` (YYYY-MM-DD, one-off windows), ``time``
        (HH:mm:ss), ``duration`` in minutes, ``days``, ``status`` active/paused. A recurring window's
        ``date`` is not used: v2 has none, and v3 does not document what it would change.
        """
        ident = item.get("id")
        try:
            kind = _V3_INTERVALS[str(item["interval"])]
            duration = int(item["duration"]) * 60
            clock = str(item["time"])
            days = tuple(int(v) for v in item.get("days") or ())
            status = str(item.get("status", "active"))
            if kind == WindowType.ONCE:
                start = datetime.fromisoformat(f"{item['date']}T{clock}").replace(tzinfo=UTC)
                raw_start = str(calendar.timegm(start.timetuple()))
            else:
                raw_start = clock
        except (KeyError, TypeError, ValueError) as exc:
            raise MaintenanceWindowInvalid(
                f"maintenance window {ident}: cannot read interval/date/time/duration/days ({exc}); "
                "check the API response format"
            ) from None
        if status not in ("active", "paused"):
            raise MaintenanceWindowInvalid(
                f"maintenance window {ident}: status {status!r} is not active/paused"
            )
        window = cls(
            id=int(ident),
            type=kind,
            duration_seconds=duration,
            days=days,
            active=status == "active",
            name=str(item.get("name") or ""),
            **_parse_start(ident, kind, raw_start),
        )
        window.validate()
        return window

    def validate(self) -> None:
        if self.duration_seconds <= 0:
            raise MaintenanceWindowInvalid(f"maintenance window {self.id}: duration must be positive")
        if self.type == WindowType.ONCE:
            if self.start_epoch is None:
                raise MaintenanceWindowInvalid(
                    f"maintenance window {self.id}: one-off window needs a start time"
                )
            return
        if self.start_minute is None or not 0 <= self.start_minute < 24 * 60:
            raise MaintenanceWindowInvalid(f"maintenance window {self.id}: start time must be HH:mm")
        if self.type == WindowType.WEEKLY and (not self.days or any(not 1 <= d <= 7 for d in self.days)):
            raise MaintenanceWindowInvalid(
                f"maintenance window {self.id}: weekly value must list weekdays 1 (Monday) to 7, got {self.days}"
            )
        if self.type == WindowType.MONTHLY and (
            not self.days or any(not 1 <= d <= 31 and d != LAST_DAY for d in self.days)
        ):
            raise MaintenanceWindowInvalid(
                f"maintenance window {self.id}: monthly value must list days 1 to 31 (or -1, the last), "
                f"got {self.days}"
            )


_V3_INTERVALS = {
    "once": WindowType.ONCE,
    "daily": WindowType.DAILY,
    "weekly": WindowType.WEEKLY,
    "monthly": WindowType.MONTHLY,
}


def _parse_start(ident: Any, kind: WindowType, raw: str) -> dict[str, int]:
    if kind == WindowType.ONCE:
        if not raw.isdigit():
            raise MaintenanceWindowInvalid(
                f"maintenance window {ident}: one-off start_time must be a Unix time, got {raw!r}"
            )
        return {"start_epoch": int(raw)}
    parts = raw.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise MaintenanceWindowInvalid(f"maintenance window {ident}: start_time must be HH:mm, got {raw!r}")
    return {"start_minute": int(parts[0]) * 60 + int(parts[1])}


def occurrences(window: MaintenanceWindow, start: int, end: int) -> list[Interval]:
    """The intervals ``window`` covers within ``[start, end)``; none while the window is paused."""
    if not window.active or end <= start:
        return []
    if window.type == WindowType.ONCE:
        assert window.start_epoch is not None
        return clip([(window.start_epoch, window.start_epoch + window.duration_seconds)], start, end)
    assert window.start_minute is not None
    found = []
    # start a day early per day of duration: an occurrence that began before `start` may still run
    day = _utc_date(start - window.duration_seconds - DAY)
    last = _utc_date(end)
    while day <= last:
        if _recurs_on(window, day):
            begin = _epoch(day) + window.start_minute * 60
            found.append((begin, begin + window.duration_seconds))
        day += timedelta(days=1)
    return clip(union(found), start, end)


def _recurs_on(window: MaintenanceWindow, day: date) -> bool:
    if window.type == WindowType.DAILY:
        return True
    if window.type == WindowType.WEEKLY:
        return day.isoweekday() in window.days
    if day.day in window.days:
        return True
    return LAST_DAY in window.days and (day + timedelta(days=1)).month != day.month


def _utc_date(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def _epoch(day: date) -> int:
    return calendar.timegm(day.timetuple())
