"""What the tenant pages are computed from, kept in the results store with each period's current report.

The SLA run fetches every monitor's log entries once; :class:`SnapshotRecorder` keeps that snapshot
and :func:`save_details` stores it (entries from the look-back on, so the state at the period's start
follows from them as it did for the report), the maintenance each monitor had in the period,
UptimeRobot's own figure per monitor and day and the reason of each "down" entry where the source fetched
them (``SourceMonitor.provider_daily_uptime`` and ``log_reasons``), and the service credit per tenant. The pages then recompute day bars, incidents and burn from these rows with
the same rules (``uptime.counted_intervals``) and never call UptimeRobot. Tables: migration 008.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from reliability.core.outcome import Metric
from reliability.sla.credits import CreditPolicy, TenantCredit, credit_metrics, load_credits, tenant_credits
from reliability.sla.intervals import Interval, clip, union
from reliability.sla.maintenance import occurrences
from reliability.sla.period import epoch
from reliability.sla.source import FetchRequest, Snapshot, SourceMonitor, UptimeSource
from reliability.sla.timeline import LogEntry

WEEK = 7 * 86_400


class SnapshotRecorder:
    """An :class:`UptimeSource` that passes the fetch through and keeps what it returned."""

    def __init__(self, source: UptimeSource) -> None:
        self.source = source
        self.name = source.name
        self.snapshot: Snapshot | None = None
        self.request: FetchRequest | None = None

    def fetch(self, request: FetchRequest) -> Snapshot:
        self.snapshot = self.source.fetch(request)
        self.request = request
        return self.snapshot


@dataclass(frozen=True)
class Reason:
    code: str | None
    detail: str | None


_NO_REASON = Reason(None, None)


@dataclass(frozen=True)
class MonitorTimeline:
    monitor_id: int
    name: str
    tenant: str | None
    created_at: int  # epoch seconds
    status: int
    entries: tuple[LogEntry, ...]
    reasons: dict[int, Reason]  # log entry's datetime -> UptimeRobot's reason (down entries)
    maintenance: tuple[Interval, ...]


@dataclass(frozen=True)
class PeriodDetails:
    period: str
    as_of: datetime
    logs_start: datetime
    maintenance_policy: str
    cross_check_tolerance: float


def save_details(
    conn, report, recorder: SnapshotRecorder, config, credits: CreditPolicy | None = None
) -> list[Metric]:
    """Store the details of ``report`` (just saved by ``save_report`` on ``conn``) and return the
    service credit gauges to push with the report's own. Nothing is stored when the period's current
    report is another one (a newer or final report was kept): its details stay."""
    policy = credits if credits is not None else load_credits()
    owed = tenant_credits(report.tenants, policy)
    snapshot, request = recorder.snapshot, recorder.request
    if snapshot is None or request is None:
        raise RuntimeError("save_details needs the recorder that compute_sla_report fetched through")
    with conn.transaction():
        current = conn.execute(
            "SELECT kind, as_of FROM reliability.sla_reports WHERE period = %s FOR UPDATE", (report.period,)
        ).fetchone()
        if current is None or (current[0], current[1]) != (report.kind, report.as_of):
            return credit_metrics(owed)
        for table in ("sla_tenant_credits", "sla_report_details"):
            conn.execute(f"DELETE FROM reliability.{table} WHERE period = %s", (report.period,))
        _insert_details(conn, report, snapshot, request, config)
        conn.cursor().executemany(
            """INSERT INTO reliability.sla_tenant_credits
                   (period, tenant, plan, kind, uptime_ratio, below_ratio, credit_ratio)
               VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [
                (c.period, c.tenant, c.plan, c.kind, c.uptime_ratio, c.below_ratio, c.credit_ratio)
                for c in owed
            ],
        )
    if not conn.autocommit:
        conn.commit()
    return credit_metrics(owed)


def _insert_details(conn, report, snapshot: Snapshot, request: FetchRequest, config) -> None:
    start, until = epoch(report.period_start), epoch(report.as_of)
    window_start = min(start, until - WEEK)
    tenant_of = {m.monitor_id: m.tenant for m in report.monitors}
    conn.execute(
        """INSERT INTO reliability.sla_report_details
               (period, as_of, logs_start, maintenance_policy, cross_check_tolerance)
           VALUES (%s, %s, %s, %s, %s)""",
        (
            report.period,
            report.as_of,
            _moment(request.logs_start),
            str(config.maintenance_policy),
            config.cross_check_tolerance,
        ),
    )
    cur = conn.cursor()
    with cur.copy(
        "COPY reliability.sla_monitor_timelines (period, monitor_id, monitor_name, tenant, created_at, status) "
        "FROM STDIN"
    ) as copy:
        for m in snapshot.monitors:
            copy.write_row(
                (report.period, m.id, m.name, tenant_of.get(m.id), _moment(m.created_at), m.status)
            )
    with cur.copy(
        "COPY reliability.sla_monitor_logs (period, monitor_id, at, type, log_id, reason_code, reason_detail) "
        "FROM STDIN"
    ) as copy:
        for m in snapshot.monitors:
            reasons = _reasons_of(m)
            for e in m.entries:
                if e.datetime < until:
                    reason = reasons.get(e.datetime, _NO_REASON)
                    copy.write_row(
                        (report.period, m.id, _moment(e.datetime), e.type, e.id, reason.code, reason.detail)
                    )
    with cur.copy(
        "COPY reliability.sla_monitor_provider_days (period, monitor_id, day, uptime_ratio) FROM STDIN"
    ) as copy:
        for m in snapshot.monitors:
            for day_start, ratio in sorted(m.provider_daily_uptime.items()):
                if start <= day_start < until:
                    copy.write_row((report.period, m.id, _moment(day_start).date(), ratio))
    expanded = {
        ident: clip(occurrences(window, window_start, until), start, until)
        for ident, window in snapshot.maintenance_windows.items()
    }
    with cur.copy(
        "COPY reliability.sla_monitor_maintenance (period, monitor_id, starts_at, ends_at) FROM STDIN"
    ) as copy:
        for m in snapshot.monitors:
            spans = union(i for ident in m.maintenance_window_ids for i in expanded.get(ident, ()))
            for s, e in spans:
                copy.write_row((report.period, m.id, _moment(s), _moment(e)))


def _reasons_of(monitor: SourceMonitor) -> dict[int, Reason]:
    """UptimeRobot's reason of each down entry (``logs[].reason``: code and detail) by the entry's time."""
    return {
        int(seconds): Reason(str(code) if code else None, str(detail) if detail else None)
        for seconds, (code, detail) in monitor.log_reasons.items()
    }


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def period_details(conn, period: str) -> PeriodDetails | None:
    row = conn.execute(
        "SELECT period, as_of, logs_start, maintenance_policy, cross_check_tolerance "
        "FROM reliability.sla_report_details "
        "WHERE period = %s",
        (period,),
    ).fetchone()
    return PeriodDetails(*row) if row else None


def tenant_timelines(conn, period: str, tenant: str) -> list[MonitorTimeline]:
    """The stored monitors of ``tenant`` in ``period`` with their log entries and maintenance, by id."""
    monitors = conn.execute(
        """SELECT monitor_id, monitor_name, tenant, created_at, status FROM reliability.sla_monitor_timelines
           WHERE period = %s AND tenant = %s ORDER BY monitor_id""",
        (period, tenant),
    ).fetchall()
    ids = [m[0] for m in monitors]
    entries: dict[int, list[LogEntry]] = {i: [] for i in ids}
    reasons: dict[int, dict[int, Reason]] = {i: {} for i in ids}
    for monitor_id, at, kind, log_id, code, detail in conn.execute(
        """SELECT monitor_id, at, type, log_id, reason_code, reason_detail FROM reliability.sla_monitor_logs
           WHERE period = %s AND monitor_id = ANY(%s) ORDER BY monitor_id, at, log_id""",
        (period, ids),
    ):
        seconds = int(at.timestamp())
        entries[monitor_id].append(LogEntry(seconds, kind, log_id))
        if code is not None or detail is not None:
            reasons[monitor_id][seconds] = Reason(code, detail)
    maintenance: dict[int, list[Interval]] = {i: [] for i in ids}
    for monitor_id, starts, ends in conn.execute(
        """SELECT monitor_id, starts_at, ends_at FROM reliability.sla_monitor_maintenance
           WHERE period = %s AND monitor_id = ANY(%s) ORDER BY monitor_id, starts_at""",
        (period, ids),
    ):
        maintenance[monitor_id].append((int(starts.timestamp()), int(ends.timestamp())))
    return [
        MonitorTimeline(
            monitor_id=ident,
            name=name,
            tenant=slug,
            created_at=int(created.timestamp()),
            status=status,
            entries=tuple(entries[ident]),
            reasons=reasons[ident],
            maintenance=tuple(maintenance[ident]),
        )
        for ident, name, slug, created, status in monitors
    ]


def provider_days(conn, period: str, monitor_ids: list[int]) -> dict[int, dict[date, float]]:
    """UptimeRobot's own uptime per monitor and UTC day, where the run stored it."""
    found: dict[int, dict[date, float]] = {}
    for monitor_id, day, ratio in conn.execute(
        """SELECT monitor_id, day, uptime_ratio FROM reliability.sla_monitor_provider_days
           WHERE period = %s AND monitor_id = ANY(%s) ORDER BY monitor_id, day""",
        (period, monitor_ids),
    ):
        found.setdefault(monitor_id, {})[day] = ratio
    return found


def period_credits(conn, period: str) -> list[TenantCredit]:
    rows = conn.execute(
        """SELECT period, kind, tenant, plan, uptime_ratio, below_ratio, credit_ratio
           FROM reliability.sla_tenant_credits WHERE period = %s ORDER BY tenant""",
        (period,),
    ).fetchall()
    return [TenantCredit(*row) for row in rows]


@dataclass(frozen=True)
class TenantMonth:
    period: str
    kind: str
    plan: str
    uptime_ratio: float | None
    target: float | None
    downtime_seconds: int
    incidents: int
    breach: bool | None
    credit_ratio: float | None  # None: no credit stored for that period (before credits existed)


def tenant_months(conn, tenant: str, period: str, months: int = 12) -> list[TenantMonth]:
    """The tenant's stored reports of the ``months`` periods up to ``period``, newest first."""
    rows = conn.execute(
        """SELECT t.period, t.kind, t.plan, t.uptime_ratio, t.target, t.downtime_seconds, t.incidents,
                  t.breach, c.credit_ratio
           FROM reliability.sla_tenant_rows t
           LEFT JOIN reliability.sla_tenant_credits c ON c.period = t.period AND c.tenant = t.tenant
           WHERE t.tenant = %s AND t.period <= %s ORDER BY t.period DESC LIMIT %s""",
        (tenant, period, months),
    ).fetchall()
    return [TenantMonth(*row) for row in rows]
