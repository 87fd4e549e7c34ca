"""SLA reports for the page tests, stored by the job's own ``save_report`` (one save a day, as the DAG does).

Period 2026-10 is final; period 2026-11 is provisional, saved daily from the 2nd to the 15th, so that
its history has 14 snapshots per tenant. In 2026-11 ``acme-corp`` (enterprise) breaches from the 6th,
``initech`` (free) is projected to breach, ``globex`` (pro) is fine and ``umbrella`` has no monitor data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reliability.sla.report import SlaReport, TenantRow

CURRENT, PREVIOUS = "2026-11", "2026-10"
BREACHED, AT_RISK, FINE, NO_DATA = "acme-corp", "initech", "globex", "umbrella"
PLANS = {
    BREACHED: ("enterprise", 0.999),
    AT_RISK: ("free", 0.95),
    FINE: ("pro", 0.99),
    NO_DATA: ("pro", 0.99),
}
SAVED_DAYS = range(2, 16)
# seconds down on each day of 2026-11. acme-corp overspends the enterprise plan's 43 minutes on the 5th (the
# report of the 6th is its first breach); initech's 1.5 hours a day burn the free plan's 36 hours faster
# than the month allows; globex stays well inside the pro plan's 7.2 hours.
DOWNTIME_BY_DAY = {
    BREACHED: {3: 1_200, 5: 1_800, 9: 3_600, 12: 900},
    AT_RISK: {day: 7_200 if day % 2 else 3_600 for day in range(1, 31)},
    FINE: {4: 600, 10: 240},
}


def tenant_row(
    period: str, kind: str, tenant: str, elapsed: int, period_seconds: int, down: int | None
) -> TenantRow:
    plan, target = PLANS[tenant]
    if down is None:
        figures = dict(
            uptime_ratio=None,
            monitored_seconds=0,
            downtime_seconds=0,
            incidents=0,
            longest_incident_seconds=0,
            breach=None,
            budget_used_seconds=None,
            budget_remaining_ratio=None,
            burn_rate_1d=None,
            burn_rate_7d=None,
            burn_rate_period=None,
            projected_breach=None,
        )
    else:
        allowed = (1 - target) * period_seconds
        burn = (down / allowed) / (elapsed / period_seconds)
        figures = dict(
            uptime_ratio=1 - down / elapsed,
            monitored_seconds=elapsed,
            downtime_seconds=down,
            incidents=1 if down else 0,
            longest_incident_seconds=down,
            breach=down > allowed,
            budget_used_seconds=down,
            budget_remaining_ratio=1 - down / allowed,
            burn_rate_1d=burn,
            burn_rate_7d=burn,
            burn_rate_period=burn,
            projected_breach=burn > 1,
        )
    return TenantRow(
        period=period,
        kind=kind,
        target=target,
        budget_allowed_seconds=(1 - target) * period_seconds,
        cross_check_ratio=None,
        cross_check_note=None,
        tenant=tenant,
        plan=plan,
        monitors=0 if down is None else 2,
        **figures,
    )


def _report(
    period: str, start: datetime, end: datetime, as_of: datetime, downs: dict[str, int | None]
) -> SlaReport:
    kind = "final" if as_of >= end else "provisional"
    elapsed = int((min(as_of, end) - start).total_seconds())
    period_seconds = int((end - start).total_seconds())
    tenants = tuple(
        tenant_row(period, kind, tenant, elapsed, period_seconds, down) for tenant, down in downs.items()
    )
    return SlaReport(
        period=period,
        kind=kind,
        period_start=start,
        period_end=end,
        as_of=as_of,
        source="uptimerobot",
        monitors=(),
        tenants=tenants,
        requests=1,
    )


def seed_sla_reports(dsn: str) -> None:
    from reliability.core.store import connect
    from reliability.sla.store import save_report

    oct_start = datetime(2026, 10, 1, tzinfo=UTC)
    nov_start = datetime(2026, 11, 1, tzinfo=UTC)
    dec_start = datetime(2026, 12, 1, tzinfo=UTC)
    with connect(dsn) as conn:
        october = _report(
            PREVIOUS, oct_start, nov_start, nov_start, {BREACHED: 600, AT_RISK: 3_600, FINE: 0, NO_DATA: None}
        )
        save_report(conn, october, "2026-10-31/2026-11-01")
        for day in SAVED_DAYS:
            as_of = nov_start + timedelta(days=day - 1)
            downs = {
                tenant: sum(down for outage_day, down in outages.items() if outage_day < day)
                for tenant, outages in DOWNTIME_BY_DAY.items()
            }
            save_report(
                conn,
                _report(CURRENT, nov_start, dec_start, as_of, {**downs, NO_DATA: None}),
                f"{as_of - timedelta(days=1):%Y-%m-%d}/{as_of:%Y-%m-%d}",
            )
    seed_sla_details(dsn)


# The logs behind the tenant pages (migration 008), stored as the SLA run stores them (SnapshotRecorder and
# save_details). acme-corp's two monitors were down exactly the seconds of DOWNTIME_BY_DAY (10:00 UTC each
# time), so its bars and incidents match its row. Period 2026-09 holds one tenant whose slug and monitor
# name are markup, to show that both stay text.
ACME_MONITORS = {301: "acme-corp/shop", 302: "acme-corp/api"}
ACME_OUTAGES = {3: 301, 5: 302, 9: 301, 12: 302}  # day of November -> the monitor that was down
HOSTILE_PERIOD = "2026-09"
HOSTILE = '<script>alert("sla")</script>'
HOSTILE_MONITOR = '<img src=x onerror="alert(1)">/www'
HOSTILE_DOWN = (datetime(2026, 9, 10, 2, tzinfo=UTC), 8 * 3_600)  # 98.89 % of September: a pro credit
REASON = ("503", "Service Unavailable")
# UptimeRobot's own figures of acme-corp/shop: the 3rd agrees with ours, the 7th shows a failure no log has
PROVIDER_DAYS = {
    int(datetime(2026, 11, 3, tzinfo=UTC).timestamp()): 1 - 1_200 / 86_400,
    int(datetime(2026, 11, 7, tzinfo=UTC).timestamp()): 0.995,
}


def _acme_snapshot():
    from reliability.sla.source import Snapshot, SourceMonitor
    from reliability.sla.timeline import LOG_DOWN, LOG_UP, LogEntry

    created = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
    monitors = []
    for ident, name in ACME_MONITORS.items():
        entries, reasons = [], {}
        for day, owner in ACME_OUTAGES.items():
            if owner == ident:
                down = int(datetime(2026, 11, day, 10, tzinfo=UTC).timestamp())
                entries += [
                    LogEntry(down, LOG_DOWN, down),
                    LogEntry(down + DOWNTIME_BY_DAY[BREACHED][day], LOG_UP),
                ]
                reasons[down] = REASON
        provider = PROVIDER_DAYS if ident == 301 else {}
        monitors.append(
            _with_reasons(SourceMonitor(ident, name, "", created, 2, tuple(entries)), reasons, provider)
        )
    return Snapshot(source="uptimerobot", monitors=tuple(monitors))


def _hostile_snapshot():
    from reliability.sla.source import Snapshot, SourceMonitor
    from reliability.sla.timeline import LOG_DOWN, LOG_UP, LogEntry

    down, seconds = HOSTILE_DOWN
    start = int(down.timestamp())
    monitor = SourceMonitor(
        401,
        HOSTILE_MONITOR,
        "",
        int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        2,
        (LogEntry(start, LOG_DOWN, 1), LogEntry(start + seconds, LOG_UP, 2)),
    )
    return Snapshot(source="uptimerobot", monitors=(_with_reasons(monitor, {start: REASON}),))


def _with_reasons(monitor, reasons, provider_days=None):
    """The monitor as a source that keeps UptimeRobot's log reasons (``log_reasons``) and daily figures
    (``provider_daily_uptime``) gives it."""
    return replace(monitor, log_reasons=reasons, provider_daily_uptime=provider_days or {})


def _computed(snapshot, monitor_tenants: dict, tenant_plans: dict, period: str, now: datetime):
    import re

    from reliability.sla.config import load_config
    from reliability.sla.details import SnapshotRecorder
    from reliability.sla.mapping import TenantMapping
    from reliability.sla.period import Period
    from reliability.sla.report import compute_sla_report
    from tests.sla.support import StaticSource

    config = load_config()
    recorder = SnapshotRecorder(StaticSource(snapshot))
    mapping = TenantMapping(re.compile(config.mapping.name_pattern), monitor_tenants, tenant_plans)
    bounds = Period.parse(period)
    return compute_sla_report(recorder, mapping, config, bounds.start, bounds.end, now), recorder, config


def seed_sla_details(dsn: str) -> None:
    from reliability.core.store import connect
    from reliability.sla.details import save_details
    from reliability.sla.store import save_report

    nov_start, dec_start = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    as_of = nov_start + timedelta(days=SAVED_DAYS[-1] - 1)
    acme, recorder, config = _computed(_acme_snapshot(), {}, {BREACHED: "enterprise"}, CURRENT, as_of)
    latest = _report(
        CURRENT,
        nov_start,
        dec_start,
        as_of,
        {
            **{t: sum(d for day, d in o.items() if day < SAVED_DAYS[-1]) for t, o in DOWNTIME_BY_DAY.items()},
            NO_DATA: None,
        },
    )
    # the daily rows above count one incident a tenant; the logs tell acme-corp's four
    tenants = tuple(
        replace(t, incidents=len(ACME_OUTAGES), longest_incident_seconds=3_600) if t.tenant == BREACHED else t
        for t in latest.tenants
    )
    latest = replace(latest, monitors=acme.monitors, tenants=tenants)
    hostile, hostile_recorder, _ = _computed(
        _hostile_snapshot(),
        {401: HOSTILE},
        {HOSTILE: "pro"},
        HOSTILE_PERIOD,
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    with connect(dsn) as conn:
        # the day's report again, now with acme-corp's monitor rows, as the run that fetched the logs saves it
        save_report(conn, latest, f"{as_of - timedelta(days=1):%Y-%m-%d}/{as_of:%Y-%m-%d}")
        save_details(conn, latest, recorder, config)
        save_report(conn, hostile, "2026-09-30/2026-10-01")
        save_details(conn, hostile, hostile_recorder, config)
