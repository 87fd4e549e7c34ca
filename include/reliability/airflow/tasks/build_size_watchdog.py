"""The ``build_size_watchdog`` DAG's task bodies: Params, asset events and connections in, outcomes out."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key


def plan_builds(params: dict[str, Any] | None, announced: list[dict[str, Any]]) -> list[dict]:
    from reliability.buildsize.run import plan

    return plan(dict(params or {}), announced)


def measure_build(request: dict, context: dict[str, Any]) -> dict:
    from reliability.buildsize.run import run

    (outcome,) = run(
        [request],
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        interval_key=interval_key(context),
        s3_client=connections.s3_client(),
        bucket=connections.s3_bucket(),
    )
    return outcome.to_dict()
