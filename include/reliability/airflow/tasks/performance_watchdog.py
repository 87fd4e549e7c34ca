"""The ``performance_watchdog`` DAG's task bodies: the run's plan, the connections, one section each."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key


def _plan(context: dict[str, Any]):
    from reliability.performance.schedule import plan_run

    params = context.get("params") or {}
    end = context.get("data_interval_end") or context["dag_run"].run_after
    return plan_run(end, params.get("sections") or (), params.get("day"), params.get("month"))


def measure_redis_latency(context: dict[str, Any]) -> list[dict]:
    from reliability.performance.redis_latency import RedisSettings
    from reliability.performance.run import measure_redis

    settings = (
        RedisSettings(**connections.redis_settings("reliability_redis"))
        if connections.exists("reliability_redis")
        else None
    )
    outcomes = measure_redis(
        _plan(context),
        settings,
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        interval_key=interval_key(context),
    )
    return [o.to_dict() for o in outcomes]


def _prometheus():
    from reliability.performance.promapi import PrometheusSettings

    if not connections.exists("reliability_prometheus"):
        return None
    return PrometheusSettings(**connections.http_settings("reliability_prometheus"))


def report_ai_latency(context: dict[str, Any]) -> list[dict]:
    from reliability.performance.run import report_ai_latency as report

    outcomes = report(
        _plan(context),
        connections.postgres_dsn("reliability_source_db"),
        _prometheus(),
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        interval_key=interval_key(context),
    )
    return [o.to_dict() for o in outcomes]


def report_response_time(context: dict[str, Any]) -> list[dict]:
    from reliability.performance.run import report_response_time as report

    outcomes = report(
        _plan(context),
        _prometheus(),
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        interval_key=interval_key(context),
    )
    return [o.to_dict() for o in outcomes]
