"""SLA periods: UTC calendar months, reported as final once over and as month to date before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_KEY = re.compile(r"^(\d{4})-(\d{2})$")
# A month a run may be asked for (the trigger form's check too): YYYY-MM of this century. Later than the
# current month, or before the first monitor existed, is refused by the run itself.
MONTH_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"


class MonthNotReportable(ValueError):
    """A requested month that has no report: not begun yet, or before any monitoring data."""


@dataclass(frozen=True)
class Period:
    key: str  # "2026-11"
    start: datetime
    end: datetime

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return cls(f"{year:04d}-{month:02d}", start, end)

    @classmethod
    def parse(cls, key: str) -> Period:
        match = _KEY.match(key)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"SLA period must look like 2026-11, got {key!r}")
        return cls.month(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, moment: datetime) -> Period:
        moment = as_utc(moment)
        return cls.month(moment.year, moment.month)

    @classmethod
    def before(cls, moment: datetime) -> Period:
        """The last month that ended at or before ``moment``: the one a monthly final report covers."""
        current = cls.containing(moment)
        return cls.month(current.start.year - (current.start.month == 1), (current.start.month - 2) % 12 + 1)

    @classmethod
    def reported_by_run_ending(cls, interval_end: datetime) -> Period:
        """The month a run whose data interval ends at ``interval_end`` reports on: the month of its last
        second. The daily run ending Nov 16 00:00 covers November to date; the one ending Dec 1 00:00 (like
        the monthly run) gives November's final report."""
        return cls.containing(as_utc(interval_end) - timedelta(seconds=1))

    @classmethod
    def requested(cls, month: str, now: datetime) -> Period:
        """The period a run is asked for with ``month``, refused unless a month from 2000 up to ``now``'s."""
        if not re.match(MONTH_PATTERN, month):
            raise MonthNotReportable(f"month must be YYYY-MM between 2000-01 and 2099-12, got {month!r}")
        period, current = cls.parse(month), cls.containing(now)
        if period.start > current.start:
            raise MonthNotReportable(
                f"month {month} has not begun: choose a month up to {current.key} "
                "(the current month, reported to date)"
            )
        return period

    def kind(self, now: datetime) -> str:
        return "final" if as_utc(now) >= self.end else "provisional"


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: SLA times must carry a time zone (UTC)")
    # A plain datetime, also from pendulum's (Airflow's context), whose arithmetic can drop the zone.
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


def epoch(moment: datetime) -> int:
    return int(as_utc(moment).timestamp())
