"""The response-time median report on real Prometheus scraping a stand-in with a known distribution."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from reliability.performance.config import PerformanceConfig, ResponseTimeConfig
from reliability.performance.promapi import PrometheusSettings
from reliability.performance.response_time import compute, slow_windows
from reliability.performance.run import report_response_time
from reliability.performance.schedule import Period, plan_run
from stack.platform_metrics import slow_time
from tests.performance.support import wait_for_history

FAST = ResponseTimeConfig(window="3s", step_seconds=1, worst_windows=10)


def recent_period(exporter, skip: float = 6) -> Period:
    start = datetime.fromtimestamp(math.ceil(exporter.started + skip), tz=UTC)
    end = datetime.fromtimestamp(math.floor(time.time()) - 2, tz=UTC)
    return Period("day", start.date().isoformat(), start, end)


def expected_over(exporter, ts: float, window: float) -> bool:
    """By hand: the median of the last `window` is above 2 s when more than half its requests were slow.
    Outside the slow phase 1 of 10 requests a second is slow, inside it all 10: 9 * slow > 4 * window."""
    elapsed = ts - exporter.started
    slow = slow_time(elapsed, exporter.cycle, exporter.slow) - slow_time(
        elapsed - window, exporter.cycle, exporter.slow
    )
    return 9 * slow > 4 * window


def test_share_of_time_above_target_worst_windows_and_route_medians(platform_prometheus, platform_metrics):
    wait_for_history(platform_metrics, 70)
    period = recent_period(platform_metrics)
    report = compute(platform_prometheus, FAST, period)
    steps = range(int(period.start.timestamp()) + 1, int(period.end.timestamp()) + 1)
    expected = sum(expected_over(platform_metrics, ts, 3) for ts in steps) / len(steps)
    assert report.steps_with_data >= len(steps) - 2
    assert report.share_over_target == pytest.approx(expected, abs=0.1)
    assert 0.3 < report.share_over_target < 0.7
    # One slow window per slow phase in the period, each about 8 s long, peaking at 3.75 s (bucket 2.5-5 s).
    phases = sum(1 for ts in steps if (ts - platform_metrics.started) % platform_metrics.cycle < 1)
    assert abs(len(report.worst_windows) - phases) <= 1
    longest = report.worst_windows[0]
    assert longest.peak_seconds == pytest.approx(3.75) and 5 <= longest.seconds <= 12
    # Per route over the whole period: /api/report is always 3 s -> 2.5 + 2.5 * 0.5; "/" is fast except
    # in the slow phase, so its median is interpolated in the first bucket: 0.1 * 0.5 / (1 - slow share).
    assert report.routes_found and report.route_medians["/api/report"] == pytest.approx(3.75)
    elapsed = (
        period.end.timestamp() - platform_metrics.started,
        period.start.timestamp() - platform_metrics.started,
    )
    slow_share = (
        slow_time(elapsed[0], platform_metrics.cycle, platform_metrics.slow)
        - slow_time(elapsed[1], platform_metrics.cycle, platform_metrics.slow)
    ) / (elapsed[0] - elapsed[1])
    assert report.route_medians["/"] == pytest.approx(0.05 / (1 - slow_share), rel=0.1)


def test_the_section_stores_and_describes_the_day(platform_prometheus, platform_metrics, results_dsn):
    wait_for_history(platform_metrics, 30)
    plan = plan_run(datetime.now(UTC), sections=["response_time"])
    config = PerformanceConfig(response_time=replace(FAST, step_seconds=5))
    (outcome,) = report_response_time(
        plan, platform_prometheus, results_dsn=results_dsn, interval_key="t", config=config
    )
    assert outcome.status == "warning" and "median above 2 s for" in outcome.headline
    assert outcome.summary["route_medians"]["/api/report"] == pytest.approx(3.75)
    names = {(m.name, m.labels.get("route")) for m in outcome.metrics}
    assert ("performance_http_route_median_seconds", "/api/report") in names
    from reliability.core.store import connect

    with connect(results_dsn) as conn:
        share, query = conn.execute(
            "SELECT share_over_target, query FROM reliability.performance_response_time"
        ).fetchone()
    assert share == outcome.summary["share_over_target"] and "histogram_quantile(0.5" in query


def test_a_query_prometheus_rejects_fails_the_section_showing_the_query(platform_prometheus, results_dsn):
    plan = plan_run(datetime.now(UTC), sections=["response_time"])
    config = PerformanceConfig(response_time=replace(FAST, window="0s"))
    (outcome,) = report_response_time(
        plan, platform_prometheus, results_dsn=results_dsn, interval_key="q", config=config
    )
    assert outcome.status == "failed" and outcome.subject == {"section": "response_time"}
    assert "refused the query (bad_data" in outcome.headline
    assert "rate(http_request_duration_seconds_bucket[0s])" in outcome.summary["error"]


def test_unreachable_prometheus_fails_the_section_naming_connection_and_query(results_dsn):
    from stack.processes import free_port

    prometheus = PrometheusSettings(
        "reliability_prometheus", f"http://127.0.0.1:{free_port()}", "u", "prom-pw-77"
    )
    plan = plan_run(datetime.now(UTC), sections=["response_time"])
    (outcome,) = report_response_time(plan, prometheus, results_dsn=results_dsn, interval_key="u")
    assert outcome.status == "failed"
    error = outcome.summary["error"]
    assert "connection reliability_prometheus" in error and "unreachable" in error
    assert (
        "query: histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"
        in error
    )
    assert "prom-pw-77" not in repr(outcome.to_dict())


def test_slow_windows_by_example():
    samples = [
        (10, 1.0),
        (11, 2.5),
        (12, 3.0),
        (13, None),
        (14, 2.1),
        (15, 0.5),
        (16, 4.0),
        (17, 4.0),
        (18, 4.0),
    ]
    with_data, over, peak, windows = slow_windows(samples, 2.0, 1)
    assert (with_data, over, peak) == (8, 6, 4.0)
    assert [(w.start.timestamp(), w.end.timestamp(), w.peak_seconds) for w in windows] == [
        (15, 18, 4.0),
        (10, 12, 3.0),
        (13, 14, 2.1),
    ]
    assert slow_windows([(1, None)], 2, 1) == (0, 0, None, [])


def test_a_day_without_samples_is_no_data_not_zero(platform_prometheus):
    from reliability.performance.outcome import to_outcome

    period = Period("day", "2026-01-01", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))
    report = compute(platform_prometheus, ResponseTimeConfig(), period)
    assert (report.steps, report.steps_with_data, report.share_over_target) == (1440, 0, None)
    outcome = to_outcome(report, period.start, period.end)
    assert "no data" in outcome.headline and "%" not in outcome.headline and outcome.status == "warning"
    share = next(m.value for m in outcome.metrics if m.name == "performance_http_median_over_target_ratio")
    assert float(share) != float(share)
