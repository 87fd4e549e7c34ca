"""The CeleryExecutor path (the docker-compose stack's, when one machine is not enough): a local Redis broker,
results in the metadata database, and two workers, worker-a and worker-b, one task slot each.

A checksum run over more data than one shard may hold is split into mapped ``validate_shard`` tasks
(dynamic task mapping); the scheduler queues them together, and the run's tasks are spread over both
workers, which the REST API shows in each task instance's ``hostname``.

Which worker takes which shard is not fixed: Airflow 3.3's task supervisor can hold a worker's slot for
up to ``[workers] min_heartbeat_interval`` seconds after its task process has exited (it only notices the
exit when its ``select`` times out), so the worker that ran ``plan_checks`` may still be busy when the
shards are queued and the other worker then runs both, one after the other (seen in CI).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.operate.support import existing_project_dags

PREFIX = "operate-large/"
# checksum.yaml keeps shards at 256 MiB or more: two objects just over half that make exactly two shards.
OBJECT_MIB = 129


def seed_large_objects(s3, bucket: str, count: int = 2) -> list[str]:
    keys = []
    for index in range(count):
        body = os.urandom(1 << 20) * OBJECT_MIB
        key = f"{PREFIX}export-{index}.bin"
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()}
        )
        keys.append(key)
    return keys


def test_checksum_shards_triggered_over_the_api_are_queued_together_and_run_on_celery_workers(celery_airflow):
    if "checksum_validation" not in existing_project_dags():
        pytest.skip("dags/checksum_validation.py does not exist (yet)")
    airflow = celery_airflow
    keys = seed_large_objects(airflow.world.s3, airflow.world.bucket)
    assert airflow.api.unpause("checksum_validation")["is_paused"] is False
    conf = airflow.ui_conf("checksum_validation", prefixes=[PREFIX], full=True)
    run = airflow.trigger_and_wait("checksum_validation", conf, timeout=300)
    assert run["state"] == "success", airflow.explain("checksum_validation", run)

    instances = airflow.api.task_instances("checksum_validation", run["dag_run_id"])
    shards = [ti for ti in instances if ti["task_id"] == "validate_shard"]
    assert sorted(ti["map_index"] for ti in shards) == [0, 1]
    # Queued together: each shard was handed to Celery before the other one had finished.
    first, second = shards
    assert first["queued_when"] < second["end_date"] and second["queued_when"] < first["end_date"], [
        (ti["map_index"], ti["queued_when"], ti["start_date"], ti["end_date"]) for ti in shards
    ]
    # Every task ran on a Celery worker (the scheduler runs none itself), and both workers took tasks.
    assert {ti["hostname"] for ti in instances} == set(airflow.workers), [
        (ti["task_id"], ti["map_index"], ti["hostname"], ti["start_date"], ti["end_date"]) for ti in instances
    ]

    # Both objects were read in full (one per shard) and matched their recorded SHA-256.
    (row,) = airflow.runs_rows("checksum_validation", run["dag_run_id"])
    assert row["status"] == "success"
    assert row["summary"]["counts"]["ok"] == len(keys)
    assert row["summary"]["verified_bytes"] == len(keys) * OBJECT_MIB << 20
