"""The SLA report of a period: one row per monitor and one per tenant, from a single fetch.

:func:`compute_sla_report` is pure except for ``source.fetch``: given the same snapshot, the same
configuration and the same ``now`` it returns the same report. If the fetch fails it raises; there is
no partial report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from reliability.core.outcome import Metric
from reliability.sla import vectorised
from reliability.sla.budget import BudgetFigures, error_budget
from reliability.sla.config import SlaConfig
from reliability.sla.maintenance import occurrences
from reliability.sla.mapping import Assignment, TenantMapping
from reliability.sla.period import MonthNotReportable, Period, as_utc, epoch
from reliability.sla.source import FetchRequest, SourceMonitor, UptimeSource
from reliability.sla.uptime import MonitorInput, UptimeFigures

DAY = 86_400
WEEK = 7 * DAY


class SnapshotInconsistent(RuntimeError):
    """The source's answers contradict each other (e.g. a monitor names a window the source did not list)."""


@dataclass(frozen=True)
class SlaFigures:
    period: str  # "2026-11"
    kind: str  # provisional (month to date) | final
    uptime_ratio: float | None  # None: no monitored time ("no data")
    monitored_seconds: int
    downtime_seconds: int
    incidents: int
    longest_incident_seconds: int
    target: float | None  # None for a monitor of no known tenant
    breach: bool | None
    budget_allowed_seconds: float | None
    budget_used_seconds: int | None
    budget_remaining_ratio: float | None
    burn_rate_1d: float | None
    burn_rate_7d: float | None
    burn_rate_period: float | None
    projected_breach: bool | None
    cross_check_ratio: float | None  # UptimeRobot's own figure for the same range (monitors only)
    cross_check_note: str | None


@dataclass(frozen=True)
class MonitorRow(SlaFigures):
    monitor_id: int
    monitor_name: str
    tenant: str | None
    plan: str | None
    unmapped_reason: str | None


@dataclass(frozen=True)
class TenantRow(SlaFigures):
    tenant: str
    plan: str
    monitors: int


@dataclass(frozen=True)
class SlaReport:
    period: str
    kind: str
    period_start: datetime
    period_end: datetime
    as_of: datetime  # "now": the end of the elapsed part of a provisional period
    source: str
    monitors: tuple[MonitorRow, ...]
    tenants: tuple[TenantRow, ...]
    requests: int  # API calls the fetch took

    def summary(self) -> dict[str, Any]:
        """A small JSON-safe digest (for the runs table and XCom): no secrets, no per-row data."""
        with_data = [t for t in self.tenants if t.uptime_ratio is not None]
        return {
            "period": self.period,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "monitors": len(self.monitors),
            "tenants": len(self.tenants),
            "tenants_without_data": len(self.tenants) - len(with_data),
            "breaches": sorted(t.tenant for t in self.tenants if t.breach),
            "projected_breaches": sorted(
                t.tenant for t in self.tenants if t.projected_breach and not t.breach
            ),
            "unmapped_monitors": sum(1 for m in self.monitors if m.tenant is None),
            "cross_check_differences": sum(1 for m in self.monitors if m.cross_check_note),
            "lowest_uptime_ratio": min((t.uptime_ratio for t in with_data), default=None),
            "api_requests": self.requests,
        }


def compute_sla_report(
    source: UptimeSource,
    mapping: TenantMapping,
    config: SlaConfig,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
) -> SlaReport:
    """Uptime, error budget and burn rates per monitor and per tenant for ``[period_start, period_end)``.

    The period is final once ``now`` has reached its end, provisional (month to date, up to ``now``)
    before. Pass the run's data interval end as ``now`` so that a rerun gives the same report.
    """
    start, end, now_s = epoch(period_start), epoch(period_end), epoch(now)
    if end <= start:
        raise ValueError(f"empty SLA period {period_start.isoformat()} .. {period_end.isoformat()}")
    if now_s <= start:
        raise ValueError(
            f"SLA period starting {period_start.isoformat()} has not started at {as_utc(now).isoformat()}"
        )
    until = min(end, now_s)
    kind = "final" if now_s >= end else "provisional"
    window_start = min(start, until - WEEK)
    snapshot = source.fetch(
        FetchRequest(
            logs_start=window_start - config.lookback_days * DAY, logs_end=now_s, uptime_range=(start, until)
        )
    )

    if snapshot.monitors and all(m.created_at >= end for m in snapshot.monitors):
        first = Period.containing(datetime.fromtimestamp(min(m.created_at for m in snapshot.monitors), UTC))
        raise MonthNotReportable(
            f"SLA {_period_key(start)}: no monitor existed yet (the first month with data is {first.key}); "
            "nothing was stored"
        )
    monitors = sorted(snapshot.monitors, key=lambda m: m.id)
    expanded = {
        ident: occurrences(window, window_start, until)
        for ident, window in snapshot.maintenance_windows.items()
    }
    inputs = [MonitorInput(m.created_at, m.status, m.entries, _maintenance_of(m, expanded)) for m in monitors]
    monitored, down = vectorised.counted_intervals(inputs, window_start, until, config.maintenance_policy)

    assignments = [mapping.assign(m.id, m.name) for m in monitors]
    tenants = sorted(mapping.tenant_plans)
    tenant_index = {slug: i for i, slug in enumerate(tenants)}
    group = np.array(
        [tenant_index[a.tenant] if isinstance(a, Assignment) else -1 for a in assignments], dtype=np.int64
    )
    tenant_monitored = vectorised.regroup(monitored, group, len(tenants))
    tenant_down = vectorised.regroup(down, group, len(tenants))

    def windows(
        mon: vectorised.IntervalTable, dwn: vectorised.IntervalTable
    ) -> list[tuple[UptimeFigures, ...]]:
        return list(
            zip(
                vectorised.figures(mon, dwn, start, until),
                vectorised.figures(mon, dwn, until - DAY, until),
                vectorised.figures(mon, dwn, until - WEEK, until),
            )
        )

    seconds_left = end - until
    period = _period_key(start)
    monitor_rows = []
    for monitor, assignment, figs in zip(monitors, assignments, windows(monitored, down)):
        mapped = isinstance(assignment, Assignment)
        budget = error_budget(*figs, config.target(assignment.plan), seconds_left) if mapped else None
        ratio, note = _cross_check(monitor, figs[0], config.cross_check_tolerance)
        monitor_rows.append(
            MonitorRow(
                **_figures(period, kind, figs[0], budget),
                cross_check_ratio=ratio,
                cross_check_note=note,
                monitor_id=monitor.id,
                monitor_name=monitor.name,
                tenant=assignment.tenant if mapped else None,
                plan=assignment.plan if mapped else None,
                unmapped_reason=None if mapped else assignment.reason,
            )
        )

    members_of: dict[str, list[MonitorRow]] = {slug: [] for slug in tenants}
    for row in monitor_rows:
        if row.tenant is not None:
            members_of[row.tenant].append(row)
    tenant_rows = []
    for slug, figs in zip(tenants, windows(tenant_monitored, tenant_down)):
        members = members_of[slug]
        differing = sum(1 for row in members if row.cross_check_note)
        plan = mapping.tenant_plans[slug]
        tenant_rows.append(
            TenantRow(
                **_figures(period, kind, figs[0], error_budget(*figs, config.target(plan), seconds_left)),
                cross_check_ratio=None,
                cross_check_note=(
                    f"{differing} of {len(members)} monitors differ from UptimeRobot's figure"
                    if differing
                    else None
                ),
                tenant=slug,
                plan=plan,
                monitors=len(members),
            )
        )

    return SlaReport(
        period=period,
        kind=kind,
        period_start=as_utc(period_start),
        period_end=as_utc(period_end),
        as_of=datetime.fromtimestamp(until, UTC),
        source=snapshot.source,
        monitors=tuple(monitor_rows),
        tenants=tuple(tenant_rows),
        requests=snapshot.requests,
    )


def _maintenance_of(
    monitor: SourceMonitor, expanded: dict[int, list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    missing = [ident for ident in monitor.maintenance_window_ids if ident not in expanded]
    if missing:
        raise SnapshotInconsistent(
            f"monitor {monitor.id} refers to maintenance window(s) {missing} that the "
            "source did not list; they may have changed during the fetch, run again"
        )
    return [i for ident in monitor.maintenance_window_ids for i in expanded[ident]]


def _figures(period: str, kind: str, figs: UptimeFigures, budget: BudgetFigures | None) -> dict[str, Any]:
    return {
        "period": period,
        "kind": kind,
        "uptime_ratio": figs.uptime_ratio,
        "monitored_seconds": figs.monitored_seconds,
        "downtime_seconds": figs.downtime_seconds,
        "incidents": figs.incidents,
        "longest_incident_seconds": figs.longest_incident_seconds,
        **{column: getattr(budget, name) if budget else None for column, name in _BUDGET_COLUMNS.items()},
    }


# row column -> BudgetFigures field; all None in the row of a monitor that maps to no plan
_BUDGET_COLUMNS = {
    "target": "target",
    "breach": "breach",
    "budget_allowed_seconds": "allowed_seconds",
    "budget_used_seconds": "used_seconds",
    "budget_remaining_ratio": "remaining_ratio",
    "burn_rate_1d": "burn_rate_1d",
    "burn_rate_7d": "burn_rate_7d",
    "burn_rate_period": "burn_rate_period",
    "projected_breach": "projected_breach",
}


def _cross_check(
    monitor: SourceMonitor, figs: UptimeFigures, tolerance: float
) -> tuple[float | None, str | None]:
    theirs, ours = monitor.provider_uptime_ratio, figs.uptime_ratio
    if theirs is None or ours is None:
        return theirs, None
    difference = ours - theirs
    if abs(difference) <= tolerance:
        return theirs, None
    return theirs, (
        f"UptimeRobot reports {theirs:.3%}, we count {ours:.3%} ({difference * 100:+.3f} pp, "
        f"tolerance {tolerance * 100:.3f} pp); ours leaves out paused and maintenance time"
    )


def _period_key(start: int) -> str:
    moment = datetime.fromtimestamp(start, UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


_DOCS = {
    "sla_uptime_ratio": "Uptime of the tenant over the SLA period so far (monitored time that was not down).",
    "sla_target_ratio": "Uptime target of the tenant's plan.",
    "sla_error_budget_remaining_ratio": "Share of the period's error budget left (negative once overspent).",
    "sla_breach": "1 if the period's downtime already exceeds what the target allows.",
    "sla_error_budget_burn_rate": "Share of budget used in the window / share of the period the window spans.",
}


def metrics(report: SlaReport) -> list[Metric]:
    """Per-tenant gauges of the metric contract (labels tenant, plan, period); "no data" pushes nothing."""
    found = []
    for row in report.tenants:
        labels = {"tenant": row.tenant, "plan": row.plan, "period": row.period}
        values = [
            ("sla_uptime_ratio", {}, row.uptime_ratio),
            ("sla_target_ratio", {}, row.target),
            ("sla_error_budget_remaining_ratio", {}, row.budget_remaining_ratio),
            ("sla_breach", {}, None if row.breach is None else float(row.breach)),
            ("sla_error_budget_burn_rate", {"window": "1d"}, row.burn_rate_1d),
            ("sla_error_budget_burn_rate", {"window": "7d"}, row.burn_rate_7d),
            ("sla_error_budget_burn_rate", {"window": "period"}, row.burn_rate_period),
        ]
        for name, extra, value in values:
            if value is not None:
                found.append(Metric(name, float(value), {**labels, **extra}, _DOCS[name]))
    return found
