"""performance_watchdog run for real through Airflow (``airflow dags test``) on the local stack: real
PostgreSQL (platform database with assistant_calls, results store), redis-server, Prometheus scraping the
platform-metrics stand-in, the Pushgateway and the Slack receiver."""

from __future__ import annotations

import json

import pytest

from stack.airflow import dags_test
from tests.e2e.test_dag_runs import gauge


def redis_connection(port: int, password: str) -> str:
    return json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": port, "password": password})


def prometheus_connection(url: str) -> str:
    host, port = url.removeprefix("http://").split(":")
    return json.dumps({"conn_type": "http", "host": host, "port": int(port), "schema": "http"})


@pytest.fixture
def perf_env(airflow_stack, platform_redis, platform_prometheus):
    return {
        **airflow_stack.env,
        "AIRFLOW_CONN_RELIABILITY_REDIS": redis_connection(platform_redis.port, platform_redis.password),
        "AIRFLOW_CONN_RELIABILITY_PROMETHEUS": prometheus_connection(platform_prometheus.url),
    }


def perf_runs(airflow_stack, section: str) -> list[dict]:
    """This section's rows in the runs table, newest first."""
    return [
        r
        for r in airflow_stack.runs("performance_watchdog")
        if r["summary"]["subject"].get("section") == section
    ]


def test_an_hourly_run_measures_redis_and_publishes_everywhere(airflow_stack, perf_env, platform_redis):
    result = dags_test(perf_env, "performance_watchdog", {"sections": ["redis"]}, timeout=600)
    assert result.succeeded, result.output[-4000:]
    (run,) = perf_runs(airflow_stack, "redis")[:1]
    assert run["status"] == "success" and run["summary"]["commands"] == 200, run
    metrics = airflow_stack.metrics()
    p99 = gauge(metrics, "performance_redis_latency_seconds", job="performance_watchdog", quantile="0.99")
    assert p99 == run["summary"]["p99_seconds"]
    assert (
        gauge(metrics, "performance_redis_latency_breach", job="performance_watchdog", section="redis") == 0
    )
    assert any(line["action"] == "performance.redis_latency" for line in airflow_stack.log_lines())
    assert platform_redis.password not in result.output


def test_a_wrong_redis_password_fails_the_run_naming_the_connection(airflow_stack, perf_env, platform_redis):
    wrong = "not-the-redis-pw-4242"
    env = {**perf_env, "AIRFLOW_CONN_RELIABILITY_REDIS": redis_connection(platform_redis.port, wrong)}
    airflow_stack.slack.clear()
    result = dags_test(env, "performance_watchdog", {"sections": ["redis"]}, timeout=600)
    assert not result.succeeded
    latest = perf_runs(airflow_stack, "redis")[0]
    assert latest["status"] == "failed"
    assert "connection reliability_redis" in latest["summary"]["error"]
    assert "authentication failed" in latest["summary"]["error"]
    assert (
        gauge(airflow_stack.metrics(), "reliability_job_success", job="performance_watchdog", section="redis")
        == 0
    )
    assert any("reliability_redis" in json.dumps(m) for m in airflow_stack.slack.messages)
    for text in (result.output, airflow_stack.log_path.read_text(), json.dumps(airflow_stack.slack.messages)):
        assert wrong not in text and platform_redis.password not in text


def test_the_ai_latency_sla_of_a_month_reaches_store_log_gateway_and_slack(airflow_stack, perf_env):
    airflow_stack.slack.clear()
    result = dags_test(perf_env, "performance_watchdog", {"month": "2026-06"}, timeout=600)
    assert result.succeeded, result.output[-4000:]
    with airflow_stack.pg.connect("platform") as conn:
        expected = dict(
            conn.execute(
                """SELECT provider, count(*) FROM assistant_calls
                   WHERE called_at >= '2026-06-01' AND called_at < '2026-07-01' GROUP BY provider"""
            ).fetchall()
        )
    runs = {
        r["summary"]["provider"]: r
        for r in perf_runs(airflow_stack, "ai_latency")
        if r["summary"].get("period", {}).get("key") == "2026-06"
    }
    assert {p: r["summary"]["calls"] for p, r in runs.items()} == expected
    # The seed draws latencies uniformly from 0.2-8.2 s: no provider keeps 90 % within 4-6 s.
    assert all(r["summary"]["verdict"] == "below_target" for r in runs.values())
    lines = [
        line
        for line in airflow_stack.log_lines()
        if line["action"] == "ai.latency_sla" and line.get("periodKey") == "2026-06"
    ]
    assert sorted(line["provider"] for line in lines) == sorted(expected)
    metrics = airflow_stack.metrics()
    ratio = gauge(metrics, "performance_ai_within_target_ratio", provider="mistral", period="month")
    assert ratio == pytest.approx(runs["mistral"]["summary"]["within_target_ratio"])
    assert any("below the 90% objective" in m["text"] for m in airflow_stack.slack.messages)


def test_a_day_without_calls_is_no_data_for_every_provider(airflow_stack, perf_env):
    result = dags_test(
        perf_env, "performance_watchdog", {"day": "2026-12-20", "sections": ["ai_latency"]}, timeout=600
    )
    assert result.succeeded, result.output[-4000:]
    runs = [
        r
        for r in perf_runs(airflow_stack, "ai_latency")
        if r["summary"].get("period", {}).get("key") == "2026-12-20"
    ]
    assert {r["summary"]["verdict"] for r in runs} == {"no_data"} and len(runs) == 3
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "performance_ai_calls", provider="openai", period="day") == 0
    ratio = gauge(metrics, "performance_ai_within_target_ratio", provider="openai", period="day")
    assert ratio != ratio, "no data is NaN on the gateway, not 0 or 1"


def test_todays_response_time_report_from_prometheus(airflow_stack, perf_env, platform_metrics):
    from tests.performance.support import wait_for_history

    wait_for_history(platform_metrics, 45)
    result = dags_test(perf_env, "performance_watchdog", {"sections": ["response_time"]}, timeout=600)
    assert result.succeeded, result.output[-4000:]
    run = perf_runs(airflow_stack, "response_time")[0]
    summary = run["summary"]
    assert run["status"] in ("success", "warning") and summary["steps_with_data"] >= 1, summary
    assert summary["route_medians"]["/api/report"] == pytest.approx(3.75)
    metrics = airflow_stack.metrics()
    assert gauge(metrics, "performance_http_route_median_seconds", route="/api/report") == pytest.approx(3.75)
    assert any(line["action"] == "performance.response_time" for line in airflow_stack.log_lines())


def test_unreachable_prometheus_fails_its_section_while_the_others_report(airflow_stack, perf_env):
    from datetime import UTC, datetime

    from stack.processes import free_port

    started = datetime.now(UTC)
    env = {
        **perf_env,
        "AIRFLOW_CONN_RELIABILITY_PROMETHEUS": prometheus_connection(f"http://127.0.0.1:{free_port()}"),
    }
    result = dags_test(
        env, "performance_watchdog", {"sections": ["redis", "response_time", "ai_latency"]}, timeout=600
    )
    assert not result.succeeded
    failed = perf_runs(airflow_stack, "response_time")[0]
    assert failed["status"] == "failed"
    assert "connection reliability_prometheus" in failed["summary"]["error"]
    assert "query: histogram_quantile(0.5" in failed["summary"]["error"]
    # This run's rows: every manual run of this hour shares the interval, so take those it finished.
    reported = [r for r in airflow_stack.runs("performance_watchdog") if r["finished_at"] >= started]
    sections = {r["summary"]["subject"]["section"]: r["status"] for r in reported}
    assert sections["redis"] == "success" and sections["ai_latency"] == "success", sections
    ai = [r for r in reported if r["summary"]["subject"]["section"] == "ai_latency"]
    assert len(ai) == 3 and all("unreachable" in r["summary"]["cross_check"]["error"] for r in ai)
