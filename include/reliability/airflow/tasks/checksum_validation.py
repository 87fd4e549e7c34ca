"""The ``checksum_validation`` DAG's task bodies: Params and connections in, the checksum job, outcomes out."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key
from reliability.checksum.config import GIB, ChecksumConfig, ConfigError, load_config
from reliability.checksum.run import plan, summarise, validate_shard


def run_config(params: dict[str, Any] | None) -> tuple[ChecksumConfig, bool]:
    """The config file with the trigger form's overrides, and whether the run is a full one."""
    params = params or {}
    budget_gib = params.get("byte_budget_gib")
    config = load_config(
        prefixes=params.get("prefixes") or None,
        byte_budget=int(float(budget_gib) * GIB) if budget_gib else None,
    )
    return config, bool(params.get("full"))


def _input_error(params: dict[str, Any] | None) -> str | None:
    try:
        run_config(params)
    except ConfigError as exc:
        return str(exc)
    return None


def plan_checks(context: dict[str, Any]) -> list[dict]:
    """The shards to validate; none when the run's Params are refused (``summarise_run`` reports that,
    once: a failed task here would add a second and a third Slack message about the same mistake)."""
    try:
        config, full = run_config(context.get("params"))
    except ConfigError as exc:
        import logging

        logging.getLogger(__name__).error("checksum run refused: %s", exc)
        return []
    return plan(
        connections.postgres_dsn("reliability_results_db"),
        connections.s3_client(),
        connections.s3_bucket(),
        config,
        interval_key(context),
        full=full,
    )


def validate(shard: dict) -> dict[str, Any]:
    return validate_shard(
        connections.postgres_dsn("reliability_results_db"),
        connections.s3_client(),
        connections.s3_bucket(),
        load_config(),
        shard["interval_key"],
        int(shard["shard"]),
    )


def summarise_run(context: dict[str, Any]) -> list[dict]:
    outcomes = summarise(
        connections.postgres_dsn("reliability_results_db"),
        interval_key(context),
        input_error=_input_error(context.get("params")),
    )
    return [o.to_dict() for o in outcomes]
