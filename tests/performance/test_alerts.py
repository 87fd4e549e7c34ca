"""A real Redis measurement above its target, pushed to the Pushgateway, fires the shipped alert rule in real
Prometheus and reaches Slack through real Alertmanager."""

from __future__ import annotations

from datetime import UTC, datetime

from reliability.adapters.pushgateway import PushgatewayConfig
from reliability.core.publish import PublishTargets, publish
from reliability.performance.config import PerformanceConfig, RedisConfig
from reliability.performance.run import measure_redis
from reliability.performance.schedule import plan_run
from tests.monitoring.alert_delivery import assert_alert_delivered
from tests.monitoring.conftest import alertmanager_server, prometheus_server, smtp_sink  # noqa: F401


def test_a_redis_p99_above_target_fires_performance_redis_latency_high(
    redis_settings,
    redis_admin,
    results_dsn,
    pushgateway,
    prometheus_server,  # noqa: F811
    slack_receiver,
    tmp_path,
):
    # A target no real round trip can meet: the breach is certain, the measurement still real.
    config = PerformanceConfig(redis=RedisConfig(commands=20, p99_target_seconds=1e-6))
    plan = plan_run(datetime(2026, 12, 7, 15, tzinfo=UTC))
    outcomes = measure_redis(
        plan, redis_settings, results_dsn=results_dsn, interval_key="alert", config=config
    )
    assert outcomes[0].summary["breach"] is True
    publish(outcomes, PublishTargets(results_dsn, PushgatewayConfig(pushgateway.url), None, tmp_path / "log"))
    assert_alert_delivered(
        prometheus_server.url,
        slack_receiver,
        "PerformanceRedisLatencyHigh",
        {"job": "performance_watchdog", "section": "redis"},
        timeout=60,
    )
