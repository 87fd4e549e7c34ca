"""Which sections a run of the hourly DAG does, and over which periods.

The DAG runs every hour (data intervals ``HH:00``-``HH+1:00`` UTC). Every run measures Redis. The run
whose interval ends at 00:00 also reports the day that just ended (response time, AI latency), and the
one ending at 00:00 on the 1st also the month that just ended (the AI latency SLA's final report).
A manual run can ask for sections, a day or a month; a period not over yet is reported "to date".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

SECTIONS = ("redis", "response_time", "ai_latency")
DAILY = ("response_time", "ai_latency")


@dataclass(frozen=True)
class Period:
    kind: str  # "day" | "month"
    key: str  # "2026-12-06" | "2026-11"
    start: datetime
    end: datetime  # exclusive; before the period's natural end when reported to date

    @property
    def final(self) -> bool:
        return self.end >= natural_end(self)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "kind": self.kind,
            "key": self.key,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "final": self.final,
        }


@dataclass(frozen=True)
class Plan:
    sections: tuple[str, ...]
    day: Period | None = None
    month: Period | None = None

    def wants(self, section: str) -> bool:
        return section in self.sections


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: times must carry a time zone (UTC)")
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


def day_period(day: date, now: datetime) -> Period:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Period("day", day.isoformat(), start, min(start + timedelta(days=1), as_utc(now)))


def month_period(year: int, month: int, now: datetime) -> Period:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return Period("month", f"{year:04d}-{month:02d}", start, min(end, as_utc(now)))


def natural_end(period: Period) -> datetime:
    if period.kind == "day":
        return period.start + timedelta(days=1)
    s = period.start
    return datetime(s.year + s.month // 12, s.month % 12 + 1, 1, tzinfo=UTC)


def plan_run(
    interval_end: datetime,
    sections: list[str] | tuple[str, ...] = (),
    day: str | None = None,
    month: str | None = None,
    now: datetime | None = None,
) -> Plan:
    """The sections and periods of the run whose data interval ends at ``interval_end``."""
    end = as_utc(interval_end)
    now = as_utc(now or datetime.now(UTC))  # caps a requested day or month that is not over yet
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    last_second = end - timedelta(seconds=1)
    at_midnight = end == datetime(end.year, end.month, end.day, tzinfo=UTC)
    if day:
        day_p = day_period(_parse_day(day), now)
    elif any(s in DAILY for s in sections):
        day_p = day_period(now.date(), now)  # asked for now: today so far
    elif at_midnight:
        day_p = day_period(last_second.date(), end)
    else:
        day_p = None
    if month:
        month_p = month_period(*_parse_month(month), now)
    elif at_midnight and end.day == 1:
        month_p = month_period(last_second.year, last_second.month, end)
    else:
        month_p = None
    if sections:
        chosen = tuple(s for s in SECTIONS if s in sections)
    elif day or month:
        chosen = DAILY if day else ("ai_latency",)
    else:
        chosen = ("redis", *DAILY) if at_midnight else ("redis",)
    return Plan(sections=chosen, day=day_p if any(s in DAILY for s in chosen) else None, month=month_p)


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"day must look like 2026-12-06, got {text!r}") from None


def _parse_month(text: str) -> tuple[int, int]:
    match = re.match(r"^(\d{4})-(0[1-9]|1[0-2])$", text)
    if not match:
        raise ValueError(f"month must look like 2026-11, got {text!r}")
    return int(match.group(1)), int(match.group(2))
