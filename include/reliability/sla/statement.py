"""One tenant's period as the tenant page and the monthly statement show it, assembled from the results
store's rows only (the report's tenant and monitor rows, and the details of migration 008): never from
UptimeRobot. :func:`read_statement` reads them in one snapshot; :func:`build_statement` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from reliability.sla.credits import TenantCredit
from reliability.sla.daybars import DayBar, day_bars, tenant_counted
from reliability.sla.details import (
    MonitorTimeline,
    PeriodDetails,
    TenantMonth,
    period_credits,
    period_details,
    provider_days,
    tenant_months,
    tenant_timelines,
)
from reliability.sla.incidents import Incident, LeftOut, left_out, tenant_incidents
from reliability.sla.period import Period, epoch
from reliability.sla.reconcile import Reconciliation, reconcile
from reliability.sla.uptime import MaintenancePolicy

# a statement is a document for a customer: past this many incidents it lists the longest counted ones
# and points to the incidents CSV, which always has them all (WeasyPrint lays out ~50 table rows a second)
STATEMENT_INCIDENTS = 100


class TenantNotInReport(LookupError):
    pass


@dataclass(frozen=True)
class StoredTenant:
    """The rows of one tenant and period, as read from the results store."""

    period: Any  # store.PeriodInfo
    row: Any  # report.TenantRow
    monitors: list[Any]  # report.MonitorRow, lowest uptime first
    details: PeriodDetails | None  # None for a report stored before the details were kept
    timelines: list[MonitorTimeline]
    credit: TenantCredit | None
    months: list[TenantMonth]
    provider_days: dict[int, dict[date, float]] = field(default_factory=dict)  # UptimeRobot's, per monitor
    name: str | None = None  # the tenant's display name in the platform database, when a run has read it


@dataclass(frozen=True)
class TenantStatement:
    stored: StoredTenant
    period_start: datetime
    period_end: datetime
    bars: list[DayBar]
    incidents: list[Incident]
    left_out: list[LeftOut]
    reconciliation: Reconciliation | None = None  # None without UptimeRobot's daily figures

    @property
    def row(self):
        return self.stored.row

    @property
    def counted_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if i.counted]

    def statement_incidents(self, limit: int = STATEMENT_INCIDENTS) -> tuple[list[Incident], int]:
        """The incidents a statement lists (all of them, or the ``limit`` longest counted ones, in time
        order) and how many it leaves to the CSV."""
        if len(self.incidents) <= limit:
            return self.incidents, 0
        longest = sorted(self.counted_incidents, key=lambda i: (-i.duration_seconds, i.start))[:limit]
        return sorted(longest, key=lambda i: (i.start, i.monitor_id)), len(self.incidents) - len(longest)


def read_statement(conn, period: str, tenant: str) -> StoredTenant:
    """The stored rows of ``tenant`` in ``period`` (call inside one repeatable-read transaction)."""
    from reliability.sla.store import list_periods, monitor_rows, tenant_name, tenant_rows

    info = next((p for p in list_periods(conn) if p.period == period), None)
    row = next((t for t in tenant_rows(conn, period) if t.tenant == tenant), None) if info else None
    if row is None:
        raise TenantNotInReport(f"no tenant {tenant} in the SLA report of {period}")
    timelines = tenant_timelines(conn, period, tenant)
    return StoredTenant(
        period=info,
        row=row,
        monitors=monitor_rows(conn, period, tenant),
        details=period_details(conn, period),
        timelines=timelines,
        provider_days=provider_days(conn, period, [m.monitor_id for m in timelines]),
        credit=next((c for c in period_credits(conn, period) if c.tenant == tenant), None),
        months=tenant_months(conn, tenant, period),
        name=tenant_name(conn, tenant),
    )


def build_statement(stored: StoredTenant) -> TenantStatement:
    """Day bars, incidents and time left out of the stored logs, with the same rules as the report."""
    bounds = Period.parse(stored.period.period)
    start, end = epoch(bounds.start), epoch(bounds.end)
    if stored.details is None:
        return TenantStatement(stored, bounds.start, bounds.end, [], [], [])
    until = epoch(stored.details.as_of)
    policy = MaintenancePolicy(stored.details.maintenance_policy)
    per_monitor, counted = tenant_counted(stored.timelines, start, until, policy)
    target = stored.row.target
    return TenantStatement(
        stored=stored,
        period_start=bounds.start,
        period_end=bounds.end,
        bars=day_bars(counted, start, end, until, target) if target is not None else [],
        incidents=tenant_incidents(stored.timelines, start, until),
        left_out=left_out(stored.timelines, start, until),
        reconciliation=(
            reconcile(
                stored.timelines,
                per_monitor,
                stored.provider_days,
                until,
                stored.details.cross_check_tolerance,
            )
            if stored.provider_days
            else None
        ),
    )
