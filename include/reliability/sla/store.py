"""SLA reports in the results store (tables from migration ``005_sla.sql``), and what the SLA page reads.

Each period has one current report: a rerun of the same interval replaces it, a later provisional run
replaces an earlier one, the final report replaces any provisional one, and nothing replaces a final
report except a rerun of the final report. Saving also keeps one snapshot per (period, tenant, day),
so the month's burn history survives the replacements. Every save is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TypeVar

from reliability.sla.report import MonitorRow, SlaReport, TenantRow

T = TypeVar("T")

_MONITOR_COLUMNS = [f.name for f in fields(MonitorRow)]
_TENANT_COLUMNS = [f.name for f in fields(TenantRow)]
_SNAPSHOT_FIELDS = [
    "plan",
    "target",
    "uptime_ratio",
    "monitored_seconds",
    "downtime_seconds",
    "budget_remaining_ratio",
    "burn_rate_period",
    "breach",
    "projected_breach",
]


@dataclass(frozen=True)
class SaveResult:
    replaced_current: bool  # False: a newer or final report of the period was kept
    snapshots: int


@dataclass(frozen=True)
class PeriodInfo:
    period: str
    kind: str
    as_of: datetime
    interval_key: str
    tenants: int
    breaches: int


@dataclass(frozen=True)
class PlanSummary:
    plan: str
    target: float | None
    tenants: int
    tenants_with_data: int
    breaches: int
    projected_breaches: int
    lowest_uptime_ratio: float | None
    mean_uptime_ratio: float | None


@dataclass(frozen=True)
class TenantSnapshot:
    tenant: str
    plan: str
    as_of_date: date
    kind: str
    uptime_ratio: float | None
    target: float | None
    budget_remaining_ratio: float | None
    burn_rate_period: float | None
    breach: bool | None


def save_report(conn, report: SlaReport, interval_key: str) -> SaveResult:
    """Store ``report`` as produced by the run of ``interval_key`` (commits)."""
    from psycopg.types.json import Jsonb

    with conn.transaction():
        # two runs saving the same period at once must not interleave their delete-then-insert
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('reliability.sla:' || %s))", (report.period,))
        current = conn.execute(
            "SELECT kind, as_of FROM reliability.sla_reports WHERE period = %s", (report.period,)
        ).fetchone()
        replace = current is None or _rank(report.kind, report.as_of) >= _rank(*current)
        if replace:
            conn.execute(
                """INSERT INTO reliability.sla_reports
                       (period, kind, interval_key, period_start, period_end, as_of, source, summary, saved_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
                   ON CONFLICT (period) DO UPDATE SET kind = EXCLUDED.kind, interval_key = EXCLUDED.interval_key,
                       period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end,
                       as_of = EXCLUDED.as_of, source = EXCLUDED.source, summary = EXCLUDED.summary,
                       saved_at = now()""",
                (
                    report.period,
                    report.kind,
                    interval_key,
                    report.period_start,
                    report.period_end,
                    report.as_of,
                    report.source,
                    Jsonb(report.summary()),
                ),
            )
            for table, columns, rows in (
                ("sla_monitor_rows", _MONITOR_COLUMNS, report.monitors),
                ("sla_tenant_rows", _TENANT_COLUMNS, report.tenants),
            ):
                conn.execute(f"DELETE FROM reliability.{table} WHERE period = %s", (report.period,))
                with conn.cursor().copy(
                    f"COPY reliability.{table} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row([getattr(row, c) for c in columns])
        as_of_date = report.as_of.date()
        conn.cursor().executemany(
            f"""INSERT INTO reliability.sla_tenant_snapshots
                    (period, tenant, as_of_date, as_of, kind, interval_key, {", ".join(_SNAPSHOT_FIELDS)})
                VALUES (%s, %s, %s, %s, %s, %s, {", ".join(["%s"] * len(_SNAPSHOT_FIELDS))})
                ON CONFLICT (period, tenant, as_of_date) DO UPDATE SET as_of = EXCLUDED.as_of,
                    kind = EXCLUDED.kind, interval_key = EXCLUDED.interval_key,
                    {", ".join(f"{c} = EXCLUDED.{c}" for c in _SNAPSHOT_FIELDS)}""",
            [
                (
                    row.period,
                    row.tenant,
                    as_of_date,
                    report.as_of,
                    row.kind,
                    interval_key,
                    *(getattr(row, c) for c in _SNAPSHOT_FIELDS),
                )
                for row in report.tenants
            ],
        )
    if not conn.autocommit:
        conn.commit()  # transaction() only makes a savepoint when the caller had a transaction open
    return SaveResult(replaced_current=replace, snapshots=len(report.tenants))


def _rank(kind: str, as_of: datetime) -> tuple[bool, datetime]:
    return kind == "final", as_of


def list_periods(conn) -> list[PeriodInfo]:
    """Every stored period, newest first."""
    return _read(
        conn,
        PeriodInfo,
        """SELECT r.period, r.kind, r.as_of, r.interval_key,
                  (SELECT count(*) FROM reliability.sla_tenant_rows t WHERE t.period = r.period) AS tenants,
                  (SELECT count(*) FROM reliability.sla_tenant_rows t WHERE t.period = r.period AND t.breach)
                    AS breaches
           FROM reliability.sla_reports r ORDER BY r.period DESC""",
    )


def tenant_rows(conn, period: str) -> list[TenantRow]:
    """The tenants of ``period``: breaches first, then lowest uptime first, "no data" last."""
    return _read(
        conn,
        TenantRow,
        f"""SELECT {", ".join(_TENANT_COLUMNS)} FROM reliability.sla_tenant_rows WHERE period = %s
              ORDER BY breach DESC NULLS LAST, uptime_ratio ASC NULLS LAST, tenant""",
        (period,),
    )


def monitor_rows(conn, period: str, tenant: str | None = None) -> list[MonitorRow]:
    """The monitors of ``period`` (of one tenant if given), lowest uptime first."""
    where, params = ("AND tenant = %s", (period, tenant)) if tenant is not None else ("", (period,))
    return _read(
        conn,
        MonitorRow,
        f"""SELECT {", ".join(_MONITOR_COLUMNS)} FROM reliability.sla_monitor_rows WHERE period = %s {where}
              ORDER BY uptime_ratio ASC NULLS LAST, monitor_id""",
        params,
    )


def plan_summary(conn, period: str) -> list[PlanSummary]:
    """Per plan: tenants, breaches, and the lowest and mean uptime of the tenants with data."""
    return _read(
        conn,
        PlanSummary,
        """SELECT plan, max(target) AS target, count(*) AS tenants, count(uptime_ratio) AS tenants_with_data,
                  count(*) FILTER (WHERE breach) AS breaches,
                  count(*) FILTER (WHERE projected_breach AND breach IS NOT TRUE) AS projected_breaches,
                  min(uptime_ratio) AS lowest_uptime_ratio, avg(uptime_ratio) AS mean_uptime_ratio
           FROM reliability.sla_tenant_rows WHERE period = %s
           GROUP BY plan ORDER BY max(target) DESC NULLS LAST, plan""",
        (period,),
    )


def tenant_history(conn, period: str) -> list[TenantSnapshot]:
    """Daily snapshots of each tenant over ``period``, by tenant then day: the burn-over-the-month chart."""
    return _read(
        conn,
        TenantSnapshot,
        """SELECT tenant, plan, as_of_date, kind, uptime_ratio, target, budget_remaining_ratio,
                    burn_rate_period, breach
             FROM reliability.sla_tenant_snapshots WHERE period = %s ORDER BY tenant, as_of_date""",
        (period,),
    )


def save_tenant_names(conn, names: dict[str, str]) -> None:
    """Keep the tenants' display names (from the platform database) for the SLA pages."""
    if not names:
        return
    conn.cursor().executemany(
        """INSERT INTO reliability.sla_tenant_names (tenant, name, updated_at) VALUES (%s, %s, now())
           ON CONFLICT (tenant) DO UPDATE SET name = EXCLUDED.name, updated_at = EXCLUDED.updated_at""",
        sorted(names.items()),
    )
    if not conn.autocommit:
        conn.commit()


def tenant_name(conn, tenant: str) -> str | None:
    """The tenant's display name as last read from the platform database; None if never read."""
    row = conn.execute(
        "SELECT name FROM reliability.sla_tenant_names WHERE tenant = %s", (tenant,)
    ).fetchone()
    return row[0] if row else None


def _read(conn, row: type[T], query: str, params: tuple | None = None) -> list[T]:
    """The rows of ``query`` as ``row`` instances, built by column name (psycopg's ``class_row``)."""
    from psycopg.rows import class_row

    with conn.cursor(row_factory=class_row(row)) as cur:
        return cur.execute(query, params).fetchall()
