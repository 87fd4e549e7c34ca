"""Benchmark of the SLA tenant page and monthly statement: one tenant with 50 monitors and a month of logs.

Starts its own PostgreSQL cluster, stores a final month computed by the SLA job's own rules from synthetic
logs (each monitor down 0-2 times a day for 30 s to 15 min, a daily maintenance window, some pauses) with the details the
tenant pages read (``SnapshotRecorder`` + ``save_details``, migration 008), then times, reading from the
results store each time as a request does:

- the period page (``/sla/?period=``, today's page: the baseline),
- the tenant page (day bars, incidents, maintenance, monitors, 12 months),
- the statement page (HTML) and the statement PDF (WeasyPrint), and the incidents CSV.

Prints the median of several rounds for each and its ratio to the baseline; the pages get no UptimeRobot
source at all (everything is read from the results store), which the run checks by failing the source
once the report is stored.

Run: ``python bench/bench_sla_pages.py [--monitors 50] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT), str(ROOT / "plugins")]

from reliability.sla.maintenance import MaintenanceWindow, WindowType  # noqa: E402
from reliability.sla.period import Period  # noqa: E402
from reliability.sla.source import Snapshot  # noqa: E402
from reliability.sla.timeline import LOG_DOWN, LOG_PAUSED, LOG_STARTED, LOG_UP, LogEntry  # noqa: E402
from tests.sla.details_scenario import ReasonedMonitor  # noqa: E402

PERIOD = Period.month(2026, 11)
START, END = int(PERIOD.start.timestamp()), int(PERIOD.end.timestamp())
DAY = 86_400
TENANT = "acme"


def synthetic_snapshot(monitors: int, seed: int = 7) -> Snapshot:
    rng = np.random.default_rng(seed)
    found = []
    for ident in range(1, monitors + 1):
        entries, reasons, log_id = [], {}, 0
        for day in range(-3, 30):
            for _ in range(int(rng.integers(0, 3))):
                down = START + day * DAY + int(rng.integers(0, DAY - 4_000))
                log_id += 2
                entries += [
                    LogEntry(down, LOG_DOWN, log_id),
                    LogEntry(down + int(rng.integers(30, 900)), LOG_UP, log_id + 1),
                ]
                reasons[down] = ("503", "Service Unavailable")
        if ident % 10 == 0:
            pause = START + 12 * DAY + 7_200
            entries += [
                LogEntry(pause, LOG_PAUSED, 10**6),
                LogEntry(pause + 4 * 3_600, LOG_STARTED, 10**6 + 1),
            ]
        entries.sort()
        found.append(
            ReasonedMonitor(
                ident, f"{TENANT}/site-{ident}", "", START - 90 * DAY, 2, tuple(entries), (1,), None, reasons
            )
        )
    window = MaintenanceWindow(1, WindowType.DAILY, 1_800, start_minute=3 * 60)
    return Snapshot(source="bench", monitors=tuple(found), maintenance_windows={1: window})


class _Once:
    """A source that answers one fetch (the SLA run's) and fails any later one (no page may fetch)."""

    name = "bench"

    def __init__(self, snapshot: Snapshot):
        self.snapshot, self.used = snapshot, False

    def fetch(self, request):
        if self.used:
            raise AssertionError("a page asked the uptime source")
        self.used = True
        return self.snapshot


def store(dsn: str, monitors: int) -> int:
    import re

    from reliability.core.store import connect
    from reliability.sla.config import load_config
    from reliability.sla.details import SnapshotRecorder, save_details
    from reliability.sla.mapping import TenantMapping
    from reliability.sla.report import compute_sla_report
    from reliability.sla.store import save_report

    config = load_config()
    snapshot = synthetic_snapshot(monitors)
    recorder = SnapshotRecorder(_Once(snapshot))
    mapping = TenantMapping(re.compile(config.mapping.name_pattern), {}, {TENANT: "enterprise"})
    report = compute_sla_report(recorder, mapping, config, PERIOD.start, PERIOD.end, PERIOD.end)
    with connect(dsn) as conn:
        save_report(conn, report, "2026-11-30/2026-12-01")
        save_details(conn, report, recorder, config)
    recorder.source.used = True  # from here on a fetch fails
    return sum(len(m.entries) for m in snapshot.monitors)


def median_seconds(action, rounds: int) -> float:
    action()  # warm: templates compiled, WeasyPrint's fonts loaded
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--monitors", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from sla_reports import render, tenant
    from sla_reports.reports import load_period, load_tenant

    from reliability.core.store import migrate
    from stack.postgres import PgCluster

    root = Path(tempfile.mkdtemp(prefix="bench-sla-pages-"))
    root.chmod(0o755)
    cluster = PgCluster.create(root / "postgres")
    cluster.start()
    try:
        dsn = cluster.create_database("bench_results")
        migrate(dsn)
        began = time.perf_counter()
        entries = store(dsn, args.monitors)
        print(
            f"stored a month for {args.monitors} monitors, {entries} log entries, in {time.perf_counter() - began:.2f} s"
        )
        statement = load_tenant(dsn, PERIOD.key, TENANT)
        print(
            f"tenant {TENANT}: uptime {statement.row.uptime_ratio:.4%}, {len(statement.incidents)} incidents "
            f"({len(statement.counted_incidents)} counted), {len(statement.left_out)} spans left out"
        )
        cases = {
            "period page (baseline)": lambda: render.page(load_period(dsn, PERIOD.key), "/sla/static"),
            "tenant page": lambda: tenant.tenant_page(
                load_tenant(dsn, PERIOD.key, TENANT), "/sla/static", "/sla"
            ),
            "statement page": lambda: tenant.statement_page(
                load_tenant(dsn, PERIOD.key, TENANT), "/sla/static", "/sla"
            ),
            "statement PDF": lambda: tenant.statement_pdf(load_tenant(dsn, PERIOD.key, TENANT)),
            "incidents CSV": lambda: tenant.incidents_csv(load_tenant(dsn, PERIOD.key, TENANT)),
        }
        results = {name: median_seconds(action, args.rounds) for name, action in cases.items()}
        baseline = results["period page (baseline)"]
        print(
            f"\nmedian of {args.rounds} rounds, each reading the results store ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
        for name, seconds in results.items():
            print(f"  {name:<24} {seconds * 1000:8.1f} ms   {seconds / baseline:6.2f}x the period page")
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
