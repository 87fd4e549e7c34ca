"""What the page shows for one period, read from the results store in one consistent snapshot.

The queries are :mod:`reliability.sla.store`'s; this module only picks the period and opens the
connection (``reliability_results_db``) read-only.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

log = logging.getLogger(__name__)

RESULTS_CONN_ID = "reliability_results_db"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN)
_CONNECT_TIMEOUT_SECONDS = 5


class ResultsStoreUnavailable(RuntimeError):
    """The results store could not be read; the message is safe to show (no host, user or password)."""


class PeriodNotFound(LookupError):
    pass


@dataclass(frozen=True)
class PeriodView:
    periods: list[Any]  # PeriodInfo, newest first
    current: Any | None  # PeriodInfo of the period shown; None when no report is stored yet
    plans: list[Any]  # PlanSummary
    tenants: list[Any]  # TenantRow: breaches first, then lowest uptime first
    history: list[Any]  # TenantSnapshot by tenant, then day
    credits: list[Any] = field(
        default_factory=list
    )  # TenantCredit (none for reports before credits were kept)
    ai_latency: list[Any] = field(default_factory=list)  # AiLatencyRow per provider (performance_watchdog)

    @property
    def days(self) -> list[date]:
        """Every day of the period's month (the chart's x axis), empty when no period is shown."""
        return month_days(self.current.period) if self.current else []


def month_days(period: str) -> list[date]:
    if not _PERIOD.match(period):
        raise ValueError(f"period {period!r} is not YYYY-MM")
    year, month = int(period[:4]), int(period[5:])
    return [date(year, month, day) for day in range(1, calendar.monthrange(year, month)[1] + 1)]


def read_period(conn, period: str | None) -> PeriodView:
    """The stored period ``period`` (the newest one when None); :class:`PeriodNotFound` if not stored."""
    from reliability.performance.store import ai_latency_month
    from reliability.sla.details import period_credits
    from reliability.sla.store import list_periods, plan_summary, tenant_history, tenant_rows

    _snapshot(conn)
    with conn.transaction():
        periods = list_periods(conn)
        if period is None:
            if not periods:
                return PeriodView(periods=[], current=None, plans=[], tenants=[], history=[])
            current = periods[0]
        else:
            current = next((p for p in periods if p.period == period), None)
            if current is None:
                raise PeriodNotFound(f"no SLA report is stored for period {period}")
        return PeriodView(
            periods=periods,
            current=current,
            plans=plan_summary(conn, current.period),
            tenants=tenant_rows(conn, current.period),
            history=tenant_history(conn, current.period),
            credits=period_credits(conn, current.period),
            ai_latency=ai_latency_month(conn, current.period),
        )


def results_dsn(conn_id: str = RESULTS_CONN_ID) -> str:
    from airflow.exceptions import AirflowNotFoundException

    from reliability.airflow.connections import postgres_dsn

    try:
        return postgres_dsn(conn_id)
    except AirflowNotFoundException:
        raise ResultsStoreUnavailable(
            f"the Airflow connection {conn_id} is not defined; add it (postgres, "
            "schema = the results database) to show SLA reports"
        ) from None


def load_period(dsn: str, period: str | None) -> PeriodView:
    return _read(dsn, lambda conn: read_period(conn, period))


def load_tenant(dsn: str, period: str, tenant: str):
    """One tenant's statement (``reliability.sla.statement``), from the results store only;
    :class:`PeriodNotFound` when the period or the tenant is not stored."""
    from reliability.sla.statement import TenantNotInReport, build_statement, read_statement

    def read(conn):
        _snapshot(conn)
        with conn.transaction():
            try:
                return read_statement(conn, period, tenant)
            except TenantNotInReport as exc:
                raise PeriodNotFound(str(exc)) from None

    return build_statement(_read(dsn, read))


def _snapshot(conn) -> None:
    """Every read of one page sees the same report, even while sla_uptime replaces it."""
    from psycopg import IsolationLevel

    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def _read(dsn: str, read):
    import psycopg

    from reliability.core.store import connect

    try:
        conn = connect(dsn, connect_timeout=_CONNECT_TIMEOUT_SECONDS)
    except psycopg.OperationalError as exc:
        # psycopg's message names the host and user: the operator's log gets it, the page only which
        # connection to check (psycopg never puts the password in it)
        log.warning("SLA page: results store connection failed: %s", exc)
        raise ResultsStoreUnavailable(
            f"cannot connect to the results store (connection {RESULTS_CONN_ID}); "
            "check that the database is up and the connection is right"
        ) from None
    try:
        return read(conn)
    except psycopg.errors.UndefinedTable:
        raise ResultsStoreUnavailable(
            "the results store has no SLA tables yet; run the results store "
            "migrations (reliability.core.store.migrate)"
        ) from None
    finally:
        conn.close()
