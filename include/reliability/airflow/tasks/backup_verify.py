"""The ``backup_verify`` DAG's task bodies: Params and connections in, the backup job's ``run``, outcomes out."""

from __future__ import annotations

from typing import Any

from reliability.airflow import connections
from reliability.airflow.context import interval_key
from reliability.backup.config import load_config
from reliability.backup.models import BackupRequest, BackupTargets, RequestError
from reliability.backup.run import check_object_exists, plan_requests, run

S3_CONN_ID = "reliability_s3"


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
        return run(req, config, targets).to_dict()
    except RequestError as exc:
        _refuse(exc)


def _refuse(exc: RequestError):
    from reliability.airflow.errors import JobFailed

    raise JobFailed(str(exc)) from None
