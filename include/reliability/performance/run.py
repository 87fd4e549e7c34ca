"""The ``performance_watchdog`` job: one step per section, each returning its outcomes.

Each step decides from the run's plan (:mod:`reliability.performance.schedule`) whether it has anything to
do; a step that cannot do it returns a failed outcome naming what failed (the connection, the query)
instead of raising, so the other sections still report and the run's gate fails afterwards.
Rows go to the results store here; the run record, log line, gauges and Slack come from publishing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from reliability.core.outcome import Outcome
from reliability.performance import ai_latency, promapi
from reliability.performance.config import PerformanceConfig, load_config
from reliability.performance.outcome import SectionFailure, to_outcome
from reliability.performance.promapi import PrometheusSettings
from reliability.performance.redis_latency import RedisSettings, RedisUnavailable, measure
from reliability.performance.schedule import Period, Plan

log = logging.getLogger(__name__)


def measure_redis(
    plan: Plan,
    settings: RedisSettings | None,
    *,
    results_dsn: str,
    interval_key: str,
    config: PerformanceConfig | None = None,
) -> list[Outcome]:
    """Time Redis round trips and read its latency monitor; store the figures."""
    from reliability.core.store import connect
    from reliability.performance.store import save_redis_latency

    if not plan.wants("redis"):
        return []
    started = datetime.now(UTC)
    config = config or load_config()
    if settings is None:
        return [_failed("redis", "no Redis connection is configured (reliability_redis)", started)]
    try:
        result = measure(settings, config.redis)
    except RedisUnavailable as exc:
        return [_failed("redis", str(exc), started)]
    with connect(results_dsn) as conn:
        save_redis_latency(conn, result, interval_key, started)
    log.info("Redis %s: p50 %.6fs p99 %.6fs max %.6fs", result.where, result.p50_seconds, result.p99_seconds,
             result.max_seconds)  # fmt: skip
    return [to_outcome(result, started, datetime.now(UTC))]


def _failed(section: str, error: str, started: datetime, **subject: str) -> Outcome:
    log.error("%s: %s", section, error)
    failure = SectionFailure(section, error, tuple(subject.items()))
    return to_outcome(failure, started, datetime.now(UTC))


def report_ai_latency(
    plan: Plan,
    platform_dsn: str,
    prometheus: PrometheusSettings | None,
    *,
    results_dsn: str,
    interval_key: str,
    config: PerformanceConfig | None = None,
) -> list[Outcome]:
    """The AI latency SLA per provider for the plan's day and month (each period on its own)."""
    if not plan.wants("ai_latency"):
        return []
    config = config or load_config()
    outcomes = []
    for period in (plan.day, plan.month):
        if period is not None:
            outcomes += _ai_period(period, platform_dsn, prometheus, results_dsn, interval_key, config)
    return outcomes


def _ai_period(
    period: Period,
    platform_dsn: str,
    prometheus: PrometheusSettings | None,
    results_dsn: str,
    interval_key: str,
    config: PerformanceConfig,
) -> list[Outcome]:
    import psycopg

    from reliability.core.scrub import scrub_text
    from reliability.core.store import connect
    from reliability.performance.store import save_ai_latency

    started = datetime.now(UTC)
    ai = config.ai_latency
    try:
        with connect(platform_dsn) as conn:
            slas = ai_latency.compute(conn, ai, period)
    except psycopg.Error as exc:
        error = scrub_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return [_failed("ai_latency", f"platform database query for {period.key} failed: {error}", started,
                        period=period.kind)]  # fmt: skip
    if prometheus is not None and ai.prometheus_histogram:
        promql = ai_latency.cross_check_query(ai.prometheus_histogram, period)
        try:
            found = promapi.query(
                prometheus, promql, period.end, timeout=config.response_time.timeout_seconds
            )
            medians = {
                r["metric"].get("provider", ""): v
                for r in found
                if (v := promapi.sample(r["value"][1])) is not None
            }
            slas = ai_latency.cross_checked(slas, medians, ai.cross_check_tolerance_ratio)
        except promapi.QueryFailed as exc:
            log.warning("AI latency cross-check skipped: %s", exc)
            slas = [replace(s, cross_check={"error": str(exc)}) for s in slas]
    with connect(results_dsn) as conn:
        save_ai_latency(conn, slas, period, interval_key, started)
    finished = datetime.now(UTC)
    return [to_outcome(sla, started, finished) for sla in slas]


def report_response_time(
    plan: Plan,
    prometheus: PrometheusSettings | None,
    *,
    results_dsn: str,
    interval_key: str,
    config: PerformanceConfig | None = None,
) -> list[Outcome]:
    """The day's response-time median report from Prometheus; a failed query fails this section only."""
    from reliability.core.store import connect
    from reliability.performance.response_time import compute
    from reliability.performance.store import save_response_time

    if not plan.wants("response_time") or plan.day is None:
        return []
    started = datetime.now(UTC)
    config = config or load_config()
    if prometheus is None:
        return [
            _failed(
                "response_time", "no Prometheus connection is configured (reliability_prometheus)", started
            )
        ]
    try:
        report = compute(prometheus, config.response_time, plan.day)
    except promapi.QueryFailed as exc:
        return [_failed("response_time", str(exc), started)]
    with connect(results_dsn) as conn:
        save_response_time(conn, report, interval_key, started)
    return [to_outcome(report, started, datetime.now(UTC))]


def run(
    plan: Plan,
    *,
    results_dsn: str,
    interval_key: str,
    redis: RedisSettings | None = None,
    prometheus: PrometheusSettings | None = None,
    platform_dsn: str | None = None,
    config: PerformanceConfig | None = None,
) -> list[Outcome]:
    """Every section the plan asks for, one after another (the DAG runs them as three tasks)."""
    config = config or load_config()
    outcomes = measure_redis(plan, redis, results_dsn=results_dsn, interval_key=interval_key, config=config)
    outcomes += report_response_time(
        plan, prometheus, results_dsn=results_dsn, interval_key=interval_key, config=config
    )
    if platform_dsn is None and plan.wants("ai_latency"):
        outcomes.append(_failed("ai_latency", "no platform database is configured", datetime.now(UTC)))
    elif platform_dsn is not None:
        outcomes += report_ai_latency(
            plan, platform_dsn, prometheus, results_dsn=results_dsn, interval_key=interval_key, config=config
        )
    return outcomes
