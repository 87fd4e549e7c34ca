"""The ``backup_verify`` DAG's task bodies: Params and connections in, the backup job's ``run``, outcomes out."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key
from reliability.backup.config import load_config
from reliability.backup.models import BackupRequest, BackupTargets, RequestError
from reliability.backup.outcome import to_outcome
from reliability.backup.run import check_object_exists, execute, plan_requests

S3_CONN_ID = "reliability_s3"
# The key of an outcome dict (XCom) that carries dump rows the results store could not take yet.
UNSTORED = "unstored_rows"


def plan(context: dict[str, Any], config_path: str | None = None) -> list[dict[str, Any]]:
    """The trigger form's Params and the run's interval -> one request per database.

    A verify-only key that is not a dump of a configured database, or does not exist, fails this task
    (without retries) before anything runs: a typo must not be published as that database's backup."""
    params = context.get("params") or {}
    try:
        requests = plan_requests(
            load_config(config_path),
            interval_key=interval_key(context),
            databases=params.get("databases") or None,
            format=params.get("dump_format"),
            compression=params.get("compression"),
            jobs=params.get("jobs"),
            verify_only_key=(params.get("verify_only_key") or "").strip() or None,
        )
        for request in requests:
            if request.verify_only_key:
                check_object_exists(
                    connections.s3_client(S3_CONN_ID),
                    connections.s3_bucket(S3_CONN_ID),
                    request.verify_only_key,
                )
    except RequestError as exc:
        _refuse(exc)
    return [r.to_dict() for r in requests]


def dump_and_verify(request: dict[str, Any], config_path: str | None = None) -> dict[str, Any]:
    """One request: resolve the connections, run, return the outcome for XCom."""
    config = load_config(config_path)
    req = BackupRequest.from_dict(request)
    db = config.database(req.database)
    targets = BackupTargets(
        source_dsn=connections.postgres_dsn(db.conn_id, db.dbname)
        if connections.exists(db.conn_id)
        else None,
        s3=connections.s3_client(S3_CONN_ID),
        bucket=connections.s3_bucket(S3_CONN_ID),
        results_dsn=(
            connections.postgres_dsn("reliability_results_db")
            if connections.exists("reliability_results_db")
            else None
        ),
    )
    try:
        result = execute(req, config, targets)
    except RequestError as exc:
        _refuse(exc)
    outcome = to_outcome(result).to_dict()
    if result.unstored_rows:  # the results store was down: publish_results writes them (and its retry)
        outcome[UNSTORED] = result.unstored_rows
    return outcome


def publish_results(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """Publish every database's outcome; dump rows the results store missed are written in the same step,
    so a store that was down during the dump gets them when publishing (or its retry) reaches it."""
    from reliability.airflow.publish import publish_outcomes
    from reliability.backups.dumps import record_dump, rows_from_json

    pending = [rows_from_json(o[UNSTORED]) for o in outcomes if o.get(UNSTORED)]

    def store_rows(conn) -> None:
        for record, tables in pending:
            record_dump(conn, record, tables)

    return publish_outcomes(
        [{k: v for k, v in o.items() if k != UNSTORED} for o in outcomes], store_rows if pending else None
    )


def _refuse(exc: RequestError):
    from reliability.airflow.errors import JobFailed

    raise JobFailed(str(exc)) from None
