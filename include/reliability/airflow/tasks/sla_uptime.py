"""The ``sla_uptime`` DAG's task bodies: the UptimeRobot and database connections in, the SLA job, outcomes out."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key, ui_base_url


def compute_sla_report(params: dict[str, Any] | None, context: dict[str, Any]) -> list[dict]:
    from reliability.sla.run import run, run_end

    params = params or {}
    outcomes = run(
        uptimerobot=connections.uptimerobot_settings(),
        results_dsn=connections.postgres_dsn("reliability_results_db"),
        platform_dsn=connections.postgres_dsn("reliability_source_db"),
        interval_end=run_end(
            params.get("month"), context.get("data_interval_end") or context["dag_run"].run_after
        ),
        interval_key=interval_key(context),
        tenants=params.get("tenants") or None,
        ui_base_url=ui_base_url(),
    )
    return [o.to_dict() for o in outcomes]
