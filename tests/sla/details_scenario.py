"""A hand-computed month of logs (March 2026, the month European clocks change: UTC has no DST) for the
tenant pages: the incidents, exclusions, day bars and credit expected from it are written out in
``test_sla_details.py``.

acme (enterprise, 99.9 %):
- monitor 101 ``acme/shop``: down 28 Feb 23:00 - 1 Mar 01:00 (counts from 00:00, rule 3), down
  3 Mar 23:30 - 4 Mar 00:45 (crosses midnight: 30 min on the 3rd, 45 min on the 4th), down 10 Mar
  10:00 - 12:00 with a maintenance window 10:30 - 11:00 cutting it in two, down 29 Mar 00:30 - 03:30
  (the night of the DST change in Europe: still 3 h).
- monitor 102 ``acme/blog``: created 15 Mar 00:00; its first entry is "up" at 06:00, so it was down
  before: 6 h counted from its creation, the time before excluded (rule 7); paused 20 Mar 12:00 -
  21 Mar 12:00 (rule 9).
globex (pro): monitor 201 up all month.
"""

from __future__ import annotations

from datetime import UTC, datetime

from reliability.sla.maintenance import MaintenanceWindow, WindowType
from reliability.sla.source import Snapshot, SourceMonitor
from reliability.sla.timeline import LOG_DOWN, LOG_PAUSED, LOG_STARTED, LOG_UP, LogEntry

PERIOD = "2026-03"
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
TENANT_PLANS = {"acme": "enterprise", "globex": "pro"}


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp())


# a monitor with UptimeRobot's reason of each down entry (``log_reasons``) and its own figure per day
# (``provider_daily_uptime``): the UptimeRobot clients fill both on SourceMonitor itself
ReasonedMonitor = SourceMonitor


# UptimeRobot's own figure of some days (see test_sla_details): equal to ours on the 3rd; on the 10th it
# counts the maintenance half hour as down; on the 5th it saw a failure we have no log of.
SHOP_PROVIDER_DAYS = {
    at(3, 3): 1 - 1_800 / 86_400,
    at(3, 5): 0.99,
    at(3, 10): 1 - 7_200 / 86_400,
}
# the 15th: created at 00:00, first checked later; the 20th: paused from noon
BLOG_PROVIDER_DAYS = {at(3, 15): 1.0, at(3, 20): 0.9, at(3, 25): 1.0}


SHOP_ENTRIES = (
    LogEntry(at(2, 28, 23), LOG_DOWN, 1),
    LogEntry(at(3, 1, 1), LOG_UP, 2),
    LogEntry(at(3, 3, 23, 30), LOG_DOWN, 3),
    LogEntry(at(3, 4, 0, 45), LOG_UP, 4),
    LogEntry(at(3, 10, 10), LOG_DOWN, 5),
    LogEntry(at(3, 10, 12), LOG_UP, 6),
    LogEntry(at(3, 29, 0, 30), LOG_DOWN, 7),
    LogEntry(at(3, 29, 3, 30), LOG_UP, 8),
)
BLOG_ENTRIES = (
    LogEntry(at(3, 15, 6), LOG_UP, 11),
    LogEntry(at(3, 20, 12), LOG_PAUSED, 12),
    LogEntry(at(3, 21, 12), LOG_STARTED, 13),
)
MAINTENANCE = MaintenanceWindow(7, WindowType.ONCE, 1800, start_epoch=at(3, 10, 10, 30))


def snapshot() -> Snapshot:
    return Snapshot(
        source="static",
        monitors=(
            ReasonedMonitor(
                101,
                "acme/shop",
                "https://shop.acme.example",
                at(1, 1),
                2,
                SHOP_ENTRIES,
                (7,),
                0.9830,
                provider_daily_uptime=SHOP_PROVIDER_DAYS,
                log_reasons={
                    at(3, 3, 23, 30): ("333333", "Connection Timeout"),
                    at(3, 10, 10): ("503", "Service Unavailable"),
                },
            ),
            ReasonedMonitor(
                102,
                "acme/blog",
                "https://blog.acme.example",
                at(3, 15),
                2,
                BLOG_ENTRIES,
                (),
                0.9950,
                provider_daily_uptime=BLOG_PROVIDER_DAYS,
            ),
            SourceMonitor(201, "globex/www", "https://globex.example", at(1, 1), 2, (), (), 1.0),
        ),
        maintenance_windows={7: MAINTENANCE},
    )
