"""The Redis section on a real redis-server: round trips, the latency monitor, breaches and faults."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reliability.performance.config import PerformanceConfig, RedisConfig
from reliability.performance.redis_latency import (
    RedisSettings,
    histogram_quantile_usec,
    quantile,
)
from reliability.performance.run import measure_redis
from reliability.performance.schedule import plan_run

HOURLY = plan_run(datetime(2026, 12, 7, 15, tzinfo=UTC))


def _config(**redis) -> PerformanceConfig:
    return PerformanceConfig(redis=RedisConfig(**{"commands": 50, **redis}))


def _stored(results_dsn: str, key: str) -> dict:
    from psycopg.rows import dict_row

    from reliability.core.store import connect

    with connect(results_dsn, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT * FROM reliability.performance_redis_latency WHERE interval_key = %s", (key,)
        ).fetchone()


def test_round_trips_are_timed_stored_and_the_monitor_is_enabled(redis_settings, redis_admin, results_dsn):
    (outcome,) = measure_redis(
        HOURLY, redis_settings, results_dsn=results_dsn, interval_key="k1", config=_config()
    )
    assert outcome.status == "success" and not outcome.alert, outcome.headline
    summary = outcome.summary
    assert summary["commands"] == 50
    assert 0 < summary["p50_seconds"] <= summary["p99_seconds"] <= summary["max_seconds"] < 0.05
    assert summary["latency_monitor"] == "latency monitor enabled at 10 ms by this run"
    assert redis_admin.config_get("latency-monitor-threshold")["latency-monitor-threshold"] == "10"
    assert "ping" in summary["server_p99_seconds"]
    gauges = {(m.name, m.labels.get("quantile")): m.value for m in outcome.metrics}
    assert gauges[("performance_redis_latency_seconds", "0.99")] == summary["p99_seconds"]
    assert gauges[("performance_redis_latency_breach", None)] == 0
    row = _stored(results_dsn, "k1")
    assert row["p99_seconds"] == summary["p99_seconds"] and row["breach"] is False
    assert redis_settings.password not in repr(row)
    # A second run finds the monitor on and leaves it.
    (again,) = measure_redis(
        HOURLY, redis_settings, results_dsn=results_dsn, interval_key="k1", config=_config()
    )
    assert again.summary["latency_monitor"] == "latency monitor on at 10 ms"


def test_a_busy_server_breaches_the_p99_target_and_shows_in_its_latency_monitor(
    redis_settings, redis_admin, results_dsn
):
    redis_admin.config_set("latency-monitor-threshold", 10)
    stop = threading.Event()

    def block_the_server():
        # DEBUG SLEEP blocks Redis's one thread: every PING queued behind it waits, as behind a slow command.
        while not stop.is_set():
            redis_admin.execute_command("DEBUG", "SLEEP", "0.08")

    blocker = threading.Thread(target=block_the_server, daemon=True)
    blocker.start()
    try:
        (outcome,) = measure_redis(
            HOURLY, redis_settings, results_dsn=results_dsn, interval_key="busy", config=_config(commands=40)
        )
    finally:
        stop.set()
        blocker.join(5)
    assert outcome.status == "warning" and outcome.alert
    assert outcome.summary["p99_seconds"] > 0.05 and outcome.summary["breach"] is True
    assert "above the 50.0 ms target" in outcome.headline
    events = {e["event"]: e for e in outcome.summary["events"]}
    assert events["command"]["max_seconds"] >= 0.08
    assert _stored(results_dsn, "busy")["breach"] is True


def test_monitor_that_cannot_be_enabled_is_reported_not_fatal(platform_redis, redis_admin, results_dsn):
    redis_admin.execute_command(
        "ACL", "SETUSER", "watchdog", "on", ">watch-pw-1", "+@all", "-config|set", "~*"
    )
    settings = RedisSettings("reliability_redis", "127.0.0.1", platform_redis.port, "watchdog", "watch-pw-1")
    (outcome,) = measure_redis(
        HOURLY, settings, results_dsn=results_dsn, interval_key="acl", config=_config()
    )
    assert outcome.status == "success"
    assert outcome.summary["latency_monitor"].startswith("latency monitor off and could not be enabled (")
    assert "permission" in outcome.summary["latency_monitor"]
    assert redis_admin.config_get("latency-monitor-threshold")["latency-monitor-threshold"] == "0"


def test_redis_down_fails_the_section_naming_the_connection(platform_redis, results_dsn):
    from stack.processes import free_port

    port = free_port()
    settings = RedisSettings("reliability_redis", "127.0.0.1", port, password=platform_redis.password)
    (outcome,) = measure_redis(
        HOURLY, settings, results_dsn=results_dsn, interval_key="down", config=_config()
    )
    assert outcome.status == "failed"
    assert f"connection reliability_redis (127.0.0.1:{port}): cannot connect" in outcome.headline
    assert platform_redis.password not in repr(outcome.to_dict())


def test_wrong_password_is_an_authentication_failure_without_the_secret(platform_redis, results_dsn):
    wrong = "wr0ng-pa55word-99"
    settings = RedisSettings("reliability_redis", "127.0.0.1", platform_redis.port, password=wrong)
    (outcome,) = measure_redis(HOURLY, settings, results_dsn=results_dsn, interval_key="pw", config=_config())
    assert outcome.status == "failed"
    assert "reliability_redis" in outcome.headline and "authentication failed" in outcome.headline
    text = repr(outcome.to_dict())
    assert wrong not in text and platform_redis.password not in text
    assert _stored(results_dsn, "pw") is None


def test_redis_is_skipped_when_the_run_does_not_plan_it(redis_settings, results_dsn):
    plan = plan_run(datetime(2026, 12, 7, 15, tzinfo=UTC), sections=["ai_latency"])
    assert measure_redis(plan, redis_settings, results_dsn=results_dsn, interval_key="x") == []


@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=300), st.floats(0.01, 1))
def test_quantile_is_an_observed_value_with_at_least_q_of_the_samples_at_or_below(samples, q):
    samples.sort()
    value = quantile(samples, q)
    assert value in samples
    assert sum(s <= value for s in samples) >= q * len(samples)
    assert sum(s < value for s in samples) < q * len(samples) or value == samples[0]


def test_quantile_examples():
    data = [float(i) for i in range(1, 101)]
    assert (quantile(data, 0.5), quantile(data, 0.99), quantile(data, 1)) == (50.0, 99.0, 100.0)
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_server_histogram_quantile_takes_the_cumulative_bucket():
    buckets = {1: 90, 2: 98, 4: 99, 8: 100}
    assert histogram_quantile_usec(buckets, 100, 0.5) == 1e-6
    assert histogram_quantile_usec(buckets, 100, 0.99) == 4e-6
    assert histogram_quantile_usec({}, 0, 0.99) is None


def test_run_does_every_planned_section_and_reports_a_missing_connection(redis_settings, results_dsn):
    from reliability.performance.run import run

    plan = plan_run(datetime(2026, 12, 7, tzinfo=UTC))  # midnight: Redis and both daily sections
    outcomes = run(plan, results_dsn=results_dsn, interval_key="all", redis=redis_settings, config=_config())
    by_section = {o.subject["section"]: o for o in outcomes}
    assert by_section["redis"].status == "success"
    assert by_section["response_time"].status == "failed"
    assert (
        "no Prometheus connection is configured (reliability_prometheus)"
        in by_section["response_time"].headline
    )
    assert by_section["ai_latency"].headline == "AI latency: no platform database is configured"
