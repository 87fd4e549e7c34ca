"""The bodies of the ``restore_test`` DAG's tasks: Airflow context in, one library step, JSON out.

Everything Airflow-specific (context, params, connections) is resolved here, so :mod:`reliability.restore.run` stays
callable without a scheduler. States travel between tasks as ``RunState.to_dict()``; a task whose
upstream crashed receives ``None`` for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key
from reliability.restore.config import RestoreConfig, load_config
from reliability.restore.run import (
    choose_step,
    create_step,
    download_step,
    drop_step,
    outcome_with_rows,
    restore_step,
    sweep_step,
    validate_step,
)
from reliability.restore.state import STEPS, RunState, Settings, final_state


def settings_from_connections(config: RestoreConfig | None = None, database: str | None = None) -> Settings:
    """Settings from the Airflow connections named in the config."""
    config = config or load_config()
    db = config.database(database or config.databases[0].name)
    return Settings(
        config=config,
        scratch_dsn=connections.postgres_dsn(config.scratch_conn_id),
        source_dsn=connections.postgres_dsn(db.conn_id, db.dbname),
        s3=connections.s3_client(),
        bucket=connections.s3_bucket(),
        results_dsn=connections.postgres_dsn("reliability_results_db")
        if connections.exists("reliability_results_db")
        else None,
    )


def _settings(database: str) -> Settings:
    return settings_from_connections(load_config(), database)


def _state(data: dict[str, Any] | None) -> RunState | None:
    return RunState.from_dict(data) if data else None


def _run_at(context: dict[str, Any]) -> datetime:
    logical = context.get("logical_date")
    if logical is not None:
        return logical
    dag_run = context.get("dag_run")
    return getattr(dag_run, "run_after", None) or datetime.now(UTC)


def choose_backup(context: dict[str, Any]) -> dict[str, Any]:
    params = context["params"]
    database = params["database"]
    return choose_step(
        _settings(database),
        database,
        interval_key(context),
        _run_at(context),
        backup_key=params.get("backup_key") or None,
        keep_on_failure=params.get("keep_scratch_on_failure"),
        jobs=params.get("jobs"),
    ).to_dict()


def _advance(step, state: dict[str, Any]) -> dict[str, Any]:
    """One middle step of the run: the state from upstream in, the step's state out."""
    current = RunState.from_dict(state)
    return step(_settings(current.database), current).to_dict()


def download_and_check(state: dict[str, Any]) -> dict[str, Any]:
    return _advance(download_step, state)


def create_scratch_database(state: dict[str, Any]) -> dict[str, Any]:
    return _advance(create_step, state)


def restore(state: dict[str, Any]) -> dict[str, Any]:
    return _advance(restore_step, state)


def validate(state: dict[str, Any]) -> dict[str, Any]:
    return _advance(validate_step, state)


def drop_scratch_database(
    created: dict[str, Any] | None, validated: dict[str, Any] | None
) -> dict[str, Any] | None:
    start = _state(created) or _state(validated)
    if start is None:
        return None
    dropped = drop_step(_settings(start.database), _state(created), _state(validated))
    return dropped.to_dict() if dropped else None


def publish_results(
    chosen: dict[str, Any] | None,
    downloaded: dict[str, Any] | None,
    restored: dict[str, Any] | None,
    validated: dict[str, Any] | None,
    dropped: dict[str, Any] | None,
    context: dict[str, Any],
) -> dict[str, Any]:
    """Finish the run (results store row) and publish its outcome (runs row, metrics, Slack, log).

    Returns the outcome (as :func:`reliability.airflow.tasks.check_outcomes` reads it) and the publish report.

    The teardown's result stands for the create step's: the teardown runs exactly when the scratch
    database was created, and returns the latest state it saw.
    """
    from reliability.airflow.publish import publish_outcomes

    database = context["params"]["database"]
    states = [chosen, downloaded, dropped, restored, validated]
    state = final_state([(step, _state(s)) for step, s in zip(STEPS, states, strict=True)], _state(dropped))
    outcome, store_rows = outcome_with_rows(
        _settings(database), state, database=database, interval_key=interval_key(context)
    )
    report = publish_outcomes([outcome.to_dict()], store_rows=store_rows)
    return {"status": outcome.status, "headline": outcome.headline, "publish": report}


def sweep(context: dict[str, Any]) -> dict[str, Any]:
    """Sweep old scratch databases; a scratch connection leading to any source database fails the task."""
    from reliability.airflow.errors import JobFailed
    from reliability.restore.errors import UnsafeScratch

    config = load_config()
    settings = settings_from_connections(config, context["params"]["database"])
    sources = tuple(connections.postgres_dsn(db.conn_id, db.dbname) for db in config.databases)
    try:
        return sweep_step(settings, sources=sources).to_dict()
    except UnsafeScratch as exc:
        raise JobFailed(f"scratch sweep refused: {exc.message}") from None
