"""Benchmark of the SLA uptime job: the computation over 10,000 monitors and the API requests of a fetch.

1. Computation: a month of logs for 10,000 monitors (over a million entries, handed over newest first as
   the API lists them, with pauses and maintenance windows), computed by the plain reference rules
   (``uptime.py``, the baseline) and by the numpy path (``vectorised.py``); both must agree. Prints events
   per second for each (best of 3 runs) and their ratio, and the same for the whole report (tenants,
   budgets and burn windows included).
2. Fetch: the same number of monitors served by the fake UptimeRobot; prints the getMonitors pages
   against ceil(monitors / 50) and the requests against one per monitor (the same calls also bring
   UptimeRobot's figure per monitor and day and the reasons of the outages, for the tenant pages: no
   request of their own), then the same fetch through
   API v3 (with v2 for what v3 lacks), its requests by endpoint beside v2's, the ratio v3 / v2, and
   whether both give the same report.

Run: ``python bench/bench_sla_uptime.py [--monitors 10000] [--events-per-monitor 110]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from reliability.sla import vectorised  # noqa: E402
from reliability.sla.config import parse_config  # noqa: E402
from reliability.sla.maintenance import MaintenanceWindow, WindowType  # noqa: E402
from reliability.sla.mapping import mapping_from_config  # noqa: E402
from reliability.sla.period import Period  # noqa: E402
from reliability.sla.report import compute_sla_report  # noqa: E402
from reliability.sla.source import FetchRequest, Snapshot, SourceMonitor  # noqa: E402
from reliability.sla.timeline import LogEntry  # noqa: E402
from reliability.sla.uptime import MaintenancePolicy, MonitorInput, counted_intervals, figures  # noqa: E402

PERIOD = Period.month(2026, 11)
START = int(PERIOD.start.timestamp())
END = int(PERIOD.end.timestamp())
DAY = 86_400
KEY = "u0000000-benchbenchbenchbench"


def synthetic_monitors(count: int, events: int, seed: int = 1) -> list[MonitorInput]:
    """Monitors with ``events`` log entries each over the month (down/up pairs, some pauses), newest first."""
    rng = np.random.default_rng(seed)
    created = START - 40 * DAY
    daily = [(START + d * DAY + 3 * 3600, START + d * DAY + 3 * 3600 + 1800) for d in range(-1, 31)]
    monitors = []
    mean_gap = (END - START + 3 * DAY) // events
    for i in range(count):
        times = START - 3 * DAY + np.cumsum(rng.integers(1, 2 * mean_gap, size=events))
        kinds = np.where(np.arange(events) % 2 == 0, 1, 2)
        pauses = rng.random(events // 2) < 0.05
        kinds[0::2][pauses] = 99
        kinds[1::2][pauses[: len(kinds[1::2])]] = 98
        ids = np.arange(i * events, (i + 1) * events)
        entries = [
            LogEntry(int(t), int(k), int(n), 0) for t, k, n in zip(times[::-1], kinds[::-1], ids[::-1])
        ]
        monitors.append(
            MonitorInput(created, 2, [LogEntry(created, 98, -1, 0)] + entries, daily if i % 20 == 0 else ())
        )
    return monitors


def time_it(action, repeat: int = 1):
    """The result and the best time of ``repeat`` runs."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return result, best


def bench_computation(count: int, events: int) -> None:
    monitors, seconds = time_it(lambda: synthetic_monitors(count, events))
    total = sum(len(m.entries) for m in monitors)
    print(f"computation: {count:,} monitors, {total:,} log entries (data set built in {seconds:.1f} s)")
    policy = MaintenancePolicy.EXCLUDE

    def reference():
        return [figures(counted_intervals(m, START, END, policy), START, END) for m in monitors]

    def numpy_path():
        monitored, down = vectorised.counted_intervals(monitors, START, END, policy)
        return vectorised.figures(monitored, down, START, END)

    baseline, base_seconds = time_it(reference, repeat=3)
    fast, fast_seconds = time_it(numpy_path, repeat=3)
    if baseline != fast:
        raise SystemExit("the vectorised figures differ from the reference: the benchmark is void")
    print(f"  reference (plain Python): {base_seconds:6.2f} s  {total / base_seconds:>12,.0f} events/s")
    print(
        f"  vectorised (numpy):       {fast_seconds:6.2f} s  {total / fast_seconds:>12,.0f} events/s"
        f"  ({base_seconds / fast_seconds:.1f}x the reference; target >= 1,000,000 events/s:"
        f" {'met' if total / fast_seconds >= 1_000_000 else 'MISSED'})"
    )

    config = parse_config({"plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999}})
    plans = {f"tenant-{i // 5:05d}": ("free", "pro", "enterprise")[i % 3] for i in range(count)}
    mapping = mapping_from_config(config, plans)
    nightly = MaintenanceWindow(1, WindowType.DAILY, 1800, start_minute=3 * 60)
    snapshot = Snapshot(
        "bench",
        tuple(
            SourceMonitor(
                i + 1,
                f"tenant-{i // 5:05d}/site-{i}.example.com",
                "https://x",
                m.created_at,
                m.status,
                tuple(m.entries),
                (1,) if m.maintenance else (),
            )
            for i, m in enumerate(monitors)
        ),
        {1: nightly},
    )

    class Static:
        name = "bench"

        def fetch(self, request: FetchRequest) -> Snapshot:
            return snapshot

    now = PERIOD.start + timedelta(days=30)
    report, report_seconds = time_it(
        lambda: compute_sla_report(Static(), mapping, config, PERIOD.start, PERIOD.end, now), repeat=3
    )
    print(
        f"  whole report ({len(report.tenants):,} tenants, budgets, 3 windows): {report_seconds:6.2f} s"
        f"  {total / report_seconds:>12,.0f} events/s"
    )


def bench_fetch(count: int) -> None:
    from dataclasses import replace

    from reliability.sla.details import SnapshotRecorder
    from reliability.sla.uptimerobot import UptimeRobotClient
    from reliability.sla.uptimerobot_v3 import UptimeRobotV3Client
    from stack.fake_uptimerobot import FakeUptimeRobot, generate_dataset

    now = datetime(2026, 11, 16, tzinfo=UTC)
    tenants = [
        {
            "slug": f"tenant-{t:05d}",
            "plan": ("free", "pro", "enterprise")[t % 3],
            "sites": [f"site-{t:05d}-{s}.example.com" for s in range(5)],
        }
        for t in range(math.ceil(count / 5))
    ]
    dataset, seconds = time_it(lambda: generate_dataset(tenants, seed=3, now=int(now.timestamp())))
    monitors = len(dataset.monitors)
    print(
        f"fetch: {monitors:,} monitors, {sum(len(m.logs) for m in dataset.monitors):,} log entries in the fake "
        f"(generated in {seconds:.1f} s)"
    )
    period = Period.containing(now)
    config = parse_config({"plans": {"free": 0.95, "pro": 0.99, "enterprise": 0.999}})
    mapping = mapping_from_config(config, {t["slug"]: t["plan"] for t in tenants})
    with FakeUptimeRobot(dataset, KEY) as fake:
        recorder = SnapshotRecorder(UptimeRobotClient(fake.url, KEY))
        report, fetch_seconds = time_it(
            lambda: compute_sla_report(recorder, mapping, config, period.start, period.end, now)
        )
        listing = sum(1 for r in fake.requests if r.endpoint == "getMonitors" and "monitors" not in r.params)
        lookback = sum(1 for r in fake.requests if r.endpoint == "getMonitors" and "monitors" in r.params)
        windows = fake.count("getMWindows")
        expected = math.ceil(monitors / 50)
        print(
            f"  v2: getMonitors pages: {listing} (target ceil({monitors:,}/50) = {expected}: "
            f"{'met' if listing == expected else 'MISSED'}); look-back calls: {lookback} "
            f"(at most {expected}); getMWindows pages: {windows}"
        )
        total = listing + lookback + windows
        fetched = recorder.snapshot.monitors
        print(
            f"  v2: for the tenant pages, in those same calls: "
            f"{sum(len(m.provider_daily_uptime) for m in fetched):,} daily UptimeRobot figures "
            f"(custom_uptime_ranges, one range per day), {sum(len(m.log_reasons) for m in fetched):,} "
            "reasons of down entries"
        )
        print(
            f"  v2: requests in all: {total} vs {monitors:,} for one call per monitor "
            f"({monitors / total:.0f}x fewer); fetch and report took {fetch_seconds:.1f} s, "
            f"{len(report.tenants):,} tenants reported"
        )
        fake.reset()
        report_v3, v3_seconds = time_it(
            lambda: compute_sla_report(
                UptimeRobotV3Client(fake.url_v3, KEY, v2_api_key=KEY),
                mapping,
                config,
                period.start,
                period.end,
                now,
            )
        )
        by_endpoint: dict[str, int] = {}
        for r in fake.requests:
            name = r.endpoint + (" (one monitor)" if "monitor_id" in r.params else "")
            name += " (entry before)" if r.endpoint == "getMonitors" and "monitors" in r.params else ""
            by_endpoint[name] = by_endpoint.get(name, 0) + 1
        total_v3 = fake.request_count
    print("  v3: " + "; ".join(f"{name}: {n}" for name, n in sorted(by_endpoint.items())))
    same = replace(report, requests=0) == replace(report_v3, requests=0)
    print(
        f"  v3: requests in all: {total_v3} vs v2's {total}: ratio v3 / v2 = {total_v3 / total:.2f}; "
        f"fetch and report took {v3_seconds:.1f} s ({v3_seconds / fetch_seconds:.2f}x v2's); "
        f"same report as v2: {'yes' if same else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--events-per-monitor", type=int, default=110)
    args = parser.parse_args()
    started = time.perf_counter()
    bench_computation(args.monitors, args.events_per_monitor)
    bench_fetch(args.monitors)
    print(f"benchmark finished in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
