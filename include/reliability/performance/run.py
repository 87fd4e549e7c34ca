"""The ``performance_watchdog`` job: one step per section, each returning its outcomes.

Each step decides from the run's plan (:mod:`reliability.performance.schedule`) whether it has anything to
do; a step that cannot do it returns a failed outcome naming what failed (the connection, the query)
instead of raising, so the other sections still report and the run's gate fails afterwards.
Rows go to the results store here; the run record, log line, gauges and Slack come from publishing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from reliability.core.outcome import Outcome
from reliability.performance.config import PerformanceConfig, load_config
from reliability.performance.outcome import SectionFailure, to_outcome
from reliability.performance.redis_latency import RedisSettings, RedisUnavailable, measure
from reliability.performance.schedule import Plan

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
