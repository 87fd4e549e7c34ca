"""SLA reports in the results store: idempotent saves, final over provisional, daily history, and the page's reads."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from reliability.sla.config import parse_config
from reliability.sla.mapping import mapping_from_config
from reliability.sla.period import Period
from reliability.sla.report import compute_sla_report
from reliability.sla.source import Snapshot, SourceMonitor
from reliability.sla.store import (
    list_periods,
    monitor_rows,
    plan_summary,
    save_report,
    tenant_history,
    tenant_rows,
)
from reliability.sla.timeline import LogEntry
from tests.sla.support import StaticSource

H = 3600
DAY = 86_400
NOV = Period.month(2026, 11)
S = int(NOV.start.timestamp())
CONFIG = parse_config(
    {
        "plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999},
        "mapping": {"tenants": {"acme": "enterprise", "globex": "pro", "initech": "free"}},
    }
)
MAPPING = mapping_from_config(CONFIG)


def monitor(ident: int, name: str, outages: list[tuple[int, int]]) -> SourceMonitor:
    entries = [LogEntry(S - 60 * DAY, 98, ident * 100)]
    for i, (start, end) in enumerate(outages):
        entries += [LogEntry(start, 1, ident * 100 + 2 * i + 1), LogEntry(end, 2, ident * 100 + 2 * i + 2)]
    return SourceMonitor(ident, name, "https://x", S - 60 * DAY, 2, tuple(entries))


MONITORS = (
    monitor(1, "acme/shop.example.com", [(S + DAY, S + DAY + 2 * H)]),  # breaches 99.9% (2 h > 43 min)
    monitor(2, "acme/blog.example.com", []),
    monitor(3, "globex/globex.example.com", [(S + 3 * DAY, S + 3 * DAY + 600)]),
    monitor(4, "Legacy marketing site", []),
)


def report_as_of(day: int, monitors=MONITORS, period: Period = NOV):
    now = period.start + timedelta(days=day)
    return compute_sla_report(
        StaticSource(Snapshot("static", monitors)), MAPPING, CONFIG, period.start, period.end, now
    )


@pytest.fixture
def conn(results_dsn):
    with psycopg.connect(results_dsn) as connection:
        yield connection


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM reliability.{table}").fetchone()[0]


def test_saved_rows_read_back_as_the_report(conn):
    report = report_as_of(10)
    result = save_report(conn, report, "2026-11-11")
    assert result.replaced_current and result.snapshots == 3
    assert sorted(tenant_rows(conn, "2026-11"), key=lambda r: r.tenant) == sorted(
        report.tenants, key=lambda r: r.tenant
    )
    assert sorted(monitor_rows(conn, "2026-11"), key=lambda r: r.monitor_id) == list(report.monitors)
    assert [r.monitor_id for r in monitor_rows(conn, "2026-11", tenant="acme")] == [
        1,
        2,
    ]  # lowest uptime first


def test_rerun_of_the_same_interval_replaces_and_never_duplicates(conn):
    save_report(conn, report_as_of(10), "2026-11-11")
    save_report(conn, report_as_of(10), "2026-11-11")
    assert (
        count(conn, "sla_reports"),
        count(conn, "sla_tenant_rows"),
        count(conn, "sla_monitor_rows"),
        count(conn, "sla_tenant_snapshots"),
    ) == (1, 3, 4, 3)


def test_a_monitor_gone_since_the_last_run_leaves_the_current_rows(conn):
    save_report(conn, report_as_of(10), "2026-11-11")
    save_report(conn, report_as_of(11, MONITORS[:3]), "2026-11-12")
    assert sorted(r.monitor_id for r in monitor_rows(conn, "2026-11")) == [1, 2, 3]


def test_final_report_replaces_the_provisional_one_and_a_late_provisional_does_not(conn):
    save_report(conn, report_as_of(10), "2026-11-11")
    final = report_as_of(30)
    assert final.kind == "final"
    assert save_report(conn, final, "2026-11").replaced_current
    late = save_report(conn, report_as_of(12), "2026-11-13")
    assert not late.replaced_current
    periods = list_periods(conn)
    assert [(p.period, p.kind, p.interval_key) for p in periods] == [("2026-11", "final", "2026-11")]
    assert {r.kind for r in tenant_rows(conn, "2026-11")} == {"final"}
    # the late run still leaves its day in the history
    assert date(2026, 11, 13) in {s.as_of_date for s in tenant_history(conn, "2026-11")}


def test_an_older_provisional_rerun_does_not_replace_a_newer_one(conn):
    save_report(conn, report_as_of(12), "2026-11-13")
    assert not save_report(conn, report_as_of(10), "2026-11-11").replaced_current
    assert list_periods(conn)[0].as_of == NOV.start + timedelta(days=12)


def test_history_keeps_one_snapshot_per_tenant_and_day(conn):
    for day in (1, 2, 3, 3):
        save_report(conn, report_as_of(day), f"2026-11-{day + 1:02d}")
    history = tenant_history(conn, "2026-11")
    acme = [s for s in history if s.tenant == "acme"]
    assert [s.as_of_date for s in acme] == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    # acme's 2-hour outage on Nov 2 burns its budget from the second snapshot on
    assert acme[0].budget_remaining_ratio == pytest.approx(1.0)
    assert acme[1].budget_remaining_ratio < 0 and acme[1].breach is True
    assert len(history) == 9


def test_periods_are_listed_newest_first_with_their_counts(conn):
    save_report(conn, report_as_of(10), "2026-11-11")
    october = Period.month(2026, 10)
    save_report(conn, report_as_of(40, period=october), "2026-10")
    periods = list_periods(conn)
    assert [(p.period, p.kind) for p in periods] == [("2026-11", "provisional"), ("2026-10", "final")]
    assert periods[0].tenants == 3 and periods[0].breaches == 1


def test_plan_summary_counts_tenants_breaches_and_uptime(conn):
    report = report_as_of(10)
    save_report(conn, report, "2026-11-11")
    summary = {s.plan: s for s in plan_summary(conn, "2026-11")}
    assert list(summary) == ["enterprise", "pro", "free"]
    enterprise, pro, free = summary["enterprise"], summary["pro"], summary["free"]
    assert (enterprise.tenants, enterprise.breaches, enterprise.target) == (1, 1, 0.999)
    assert enterprise.lowest_uptime_ratio == pytest.approx(1 - 2 * H / (10 * DAY))
    assert (pro.tenants, pro.tenants_with_data, pro.breaches) == (1, 1, 0)
    assert pro.mean_uptime_ratio == pytest.approx(1 - 600 / (10 * DAY))
    assert (free.tenants, free.tenants_with_data, free.lowest_uptime_ratio) == (1, 0, None)


def test_tenant_rows_put_breaches_first_and_no_data_last(conn):
    save_report(conn, report_as_of(10), "2026-11-11")
    assert [r.tenant for r in tenant_rows(conn, "2026-11")] == ["acme", "globex", "initech"]


def test_a_save_is_committed_even_after_reads_on_the_same_connection(conn, results_dsn):
    tenant_rows(conn, "2026-11")  # leaves a transaction open on this connection
    save_report(conn, report_as_of(10), "2026-11-11")
    with psycopg.connect(results_dsn) as other:
        assert [p.period for p in list_periods(other)] == ["2026-11"]
